#pragma once
// Small process-level helpers shared by the three executables.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace sensorgate {

/// Wall-clock time, nanoseconds since the Unix epoch.
std::int64_t wall_clock_ns();

/// This machine's host name ("unknown-host" if it cannot be read).
std::string host_name();

/// Sets up spdlog's default logger (stderr, timestamps, program name); `level` is one of
/// trace|debug|info|warn|error|off. Returns false for an unknown level.
bool init_logging(std::string_view program, std::string_view level);

/// Where the dashboard's files are: `<directory of this executable>/../share/sensorgate/web`,
/// which is /usr/share/sensorgate/web when installed and build/share/sensorgate/web in a
/// build tree (the web bundle's output).
std::filesystem::path default_web_root();

/// "sensorgate <version> (<build type>, <compiler>)" for --version.
std::string version_string();

}  // namespace sensorgate
