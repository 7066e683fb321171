#include "sensorgate/common/stop_signal.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>

namespace sensorgate {
StopSignal::StopSignal() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

int StopSignal::wait_for(std::optional<std::chrono::milliseconds> timeout) const {
  if (!timeout) {
    int sig = 0;
    while (sigwait(&signals_, &sig) != 0) {
    }
    return sig;
  }
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
    int sig = sigtimedwait(&signals_, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EAGAIN) return 0;  // timed out; EINTR loops
  }
}

}  // namespace sensorgate
