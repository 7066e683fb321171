#pragma once
// Environment: what a measurement ran on, the sixth comparison metric. Filled from the
// build (version, commit, flags, compiler) and from /proc (CPU model, cores, memory); the
// GPU fields come from the compute backends (kernels::describe_gpu), which know CUDA.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace sensorgate {

struct Environment {
  std::string version;
  std::string git_commit;
  std::string build_type;
  std::string build_flags;
  std::string compiler;
  std::string cpu_model;
  unsigned cpu_cores = 0;
  std::uint64_t memory_bytes = 0;
  std::optional<std::string> gpu_model;
  std::optional<std::string> gpu_driver;
  std::string hostname;
  std::string os;
};

/// This process's environment, without the GPU fields.
Environment describe_environment();

nlohmann::json to_json(const Environment& environment);

}  // namespace sensorgate
