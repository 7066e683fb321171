#include "sensorgate/kernels/moments_backend.hpp"

#include <stdexcept>

namespace sensorgate::kernels {
namespace {

class CpuMomentsBackend final : public MomentsBackend {
 public:
  [[nodiscard]] std::string_view name() const override { return "cpu"; }
  void compute(std::span<const MomentsJob> jobs, std::span<Moments> out) override {
    for (const auto& job : jobs) {
      block_moments(job.samples, job.frames, job.channels, out.data() + job.out_offset);
    }
  }
};

}  // namespace

std::unique_ptr<MomentsBackend> make_cpu_moments_backend() {
  return std::make_unique<CpuMomentsBackend>();
}

#if !SENSORGATE_HAVE_CUDA
bool cuda_backend_available() {
  return false;
}
std::unique_ptr<MomentsBackend> make_cuda_moments_backend() {
  throw std::runtime_error("this build of sensorgate has no CUDA backend (configure with SENSORGATE_CUDA=ON)");
}
#endif

std::unique_ptr<MomentsBackend> make_moments_backend(std::string_view choice) {
  if (choice == "cpu") return make_cpu_moments_backend();
  if (choice == "cuda") return make_cuda_moments_backend();
  if (choice == "auto") return cuda_backend_available() ? make_cuda_moments_backend() : make_cpu_moments_backend();
  throw std::invalid_argument("unknown compute backend '" + std::string(choice) + "' (expected auto|cpu|cuda)");
}

}  // namespace sensorgate::kernels
