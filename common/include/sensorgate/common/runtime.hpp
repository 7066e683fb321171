#pragma once
// Small process-level helpers shared by the three executables.

#include <cstdint>
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

/// "sensorgate <version> (<build type>, <compiler>)" for --version.
std::string version_string();

}  // namespace sensorgate
