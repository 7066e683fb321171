#include "sensorgate/common/environment.hpp"

#include <sys/utsname.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sensorgate/common/runtime.hpp"

namespace sensorgate {
namespace {

/// The value of the first "key : value" line of a /proc file whose key is `key`.
std::string proc_field(const char* path, std::string_view key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(key)) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto value = line.find_first_not_of(" \t", colon + 1);
    return value == std::string::npos ? std::string() : line.substr(value);
  }
  return {};
}

std::string cpu_model() {
  // x86 names the model; arm64 kernels often do not, so fall back to the implementer/part.
  for (const auto* key : {"model name", "Model", "Hardware", "CPU part"}) {
    if (auto value = proc_field("/proc/cpuinfo", key); !value.empty()) return value;
  }
  return "unknown";
}

std::uint64_t memory_bytes() {
  const auto kb = proc_field("/proc/meminfo", "MemTotal");  // "16318424 kB"
  try {
    return kb.empty() ? 0 : std::stoull(kb) * 1024;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

Environment describe_environment() {
  Environment e;
  e.version = SENSORGATE_VERSION;
  e.git_commit = SENSORGATE_GIT_COMMIT;
  e.build_type = SENSORGATE_BUILD_TYPE;
  e.build_flags = SENSORGATE_BUILD_FLAGS;
#if defined(__clang__)
  e.compiler = std::string("clang ") + __clang_version__;
#else
  e.compiler = std::string("gcc ") + __VERSION__;
#endif
  e.cpu_model = cpu_model();
  e.cpu_cores = std::thread::hardware_concurrency();
  e.memory_bytes = memory_bytes();
  e.hostname = host_name();
  utsname u{};
  if (uname(&u) == 0) {
    e.os = std::string(static_cast<const char*>(u.sysname)) + " " + static_cast<const char*>(u.release) + " " +
           static_cast<const char*>(u.machine);
  }
  return e;
}

nlohmann::json to_json(const Environment& e) {
  return {{"version", e.version},
          {"git_commit", e.git_commit},
          {"build_type", e.build_type},
          {"build_flags", e.build_flags},
          {"compiler", e.compiler},
          {"cpu_model", e.cpu_model},
          {"cpu_cores", e.cpu_cores},
          {"memory_bytes", e.memory_bytes},
          {"gpu_model", e.gpu_model ? nlohmann::json(*e.gpu_model) : nlohmann::json(nullptr)},
          {"gpu_driver", e.gpu_driver ? nlohmann::json(*e.gpu_driver) : nlohmann::json(nullptr)},
          {"hostname", e.hostname},
          {"os", e.os}};
}

}  // namespace sensorgate
