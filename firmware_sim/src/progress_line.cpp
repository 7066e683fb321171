#include "sensorgate/sim/progress_line.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace sensorgate::sim {

ProgressLine::ProgressLine(std::uint64_t total_frames, double sample_rate_hz, std::FILE* terminal,
                           std::chrono::seconds log_interval)
    : total_frames_(total_frames), sample_rate_hz_(sample_rate_hz), terminal_(terminal), log_interval_(log_interval) {}

std::string ProgressLine::render(std::uint64_t frames, std::chrono::duration<double> elapsed) const {
  const double sent_s = static_cast<double>(frames) / sample_rate_hz_;
  const std::string speed =
      elapsed.count() > 0 ? fmt::format("{:.1f}x real time", sent_s / elapsed.count()) : std::string("starting");
  if (total_frames_ == 0) return fmt::format("{:.1f} s sent  {}", sent_s, speed);
  constexpr int kWidth = 20;
  const double fraction = std::min(1.0, static_cast<double>(frames) / static_cast<double>(total_frames_));
  const int filled = static_cast<int>(fraction * kWidth);
  return fmt::format("[{}{}] {:5.1f}%  {:.1f}/{:.1f} s  {}", std::string(static_cast<std::size_t>(filled), '#'),
                     std::string(static_cast<std::size_t>(kWidth - filled), '-'), 100.0 * fraction, sent_s,
                     static_cast<double>(total_frames_) / sample_rate_hz_, speed);
}

void ProgressLine::update(std::uint64_t frames, std::chrono::duration<double> elapsed) {
  const std::chrono::duration<double> interval =
      terminal_ != nullptr ? std::chrono::duration<double>(0.2) : std::chrono::duration<double>(log_interval_);
  if (elapsed - last_shown_ < interval) return;
  last_shown_ = elapsed;
  if (terminal_ != nullptr) {
    // \r and erase-to-end-of-line: redraw in place.
    fmt::print(terminal_, "\r{}\x1b[K", render(frames, elapsed));
    std::fflush(terminal_);
  } else {
    spdlog::info("sim: {}", render(frames, elapsed));
  }
}

void ProgressLine::finish(std::uint64_t frames, std::chrono::duration<double> elapsed) {
  if (terminal_ == nullptr) return;  // the summary log line follows
  fmt::print(terminal_, "\r{}\x1b[K\n", render(frames, elapsed));
  std::fflush(terminal_);
}

}  // namespace sensorgate::sim
