#include "sensorgate/common/runtime.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <chrono>

namespace sensorgate {

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "unknown-host";
  return buf.data();
}

bool init_logging(std::string_view program, std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_color_mt(std::string(program));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return true;
}

std::filesystem::path default_web_root() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/share/sensorgate/web";
  return (exe.parent_path() / ".." / "share" / "sensorgate" / "web").lexically_normal();
}

std::string version_string() {
  return fmt::format("sensorgate {} ({}, {} {})", SENSORGATE_VERSION, SENSORGATE_BUILD_TYPE,
#if defined(__clang__)
                     "clang", __clang_version__
#else
                     "gcc", __VERSION__
#endif
  );
}

}  // namespace sensorgate
