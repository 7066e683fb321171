#pragma once
// FailoverSwitch: what the GPU backends do when the GPU fails mid-stream. A call on the
// primary backend (the GPU) that throws std::runtime_error is redone at once on the CPU,
// so no batch is lost; the failure is logged and counted, the primary is dropped, and
// calls stay on the CPU until `retry_after_searches` calls have been served there (the
// failed one included). Then a new primary is made and re-seeded with the backend's state
// (the scoring points); if that fails too, the CPU carries on and the wait starts again.
// Caller errors (std::invalid_argument, std::logic_error) are not device failures and
// propagate unchanged.
//
// Used by FailoverNeighbourSearch (scoring) and the failover block-statistics backend.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sensorgate::kernels {

/// Counters: written by the owner thread, readable anywhere.
struct FailoverCounters {
  std::atomic<std::uint64_t> primary_searches{0};   ///< calls served by the primary
  std::atomic<std::uint64_t> fallback_searches{0};  ///< calls served by the CPU instead
  std::atomic<std::uint64_t> failures{0};           ///< primary errors (each one switched)
  std::atomic<std::uint64_t> recoveries{0};         ///< switches back to the primary
};

struct FailoverOptions {
  /// Calls served on the CPU after a failure (the failed one included) before the primary
  /// is tried again.
  std::uint64_t retry_after_searches = 100;
  /// Fault injection (config fault.cuda_fail_after_batches): the primary's call number n
  /// (from 1, counted over the object's life) throws as if the device had failed, once;
  /// 0 = never.
  std::uint64_t fail_primary_after = 0;
};

class FailoverSwitch {
 public:
  /// `what` names the work in log lines ("scoring", "block statistics").
  FailoverSwitch(std::string what, std::string primary_name, FailoverOptions options)
      : what_(std::move(what)), primary_name_(std::move(primary_name)), options_(options) {}

  /// Runs `on_primary(primary)` or, when there is no primary or it fails, `on_fallback()`.
  /// While on the fallback, a due retry makes a new primary with `make` and hands it to
  /// `reseed` before use.
  template <class Backend, class Result>
  Result call(std::unique_ptr<Backend>& primary, const std::function<std::unique_ptr<Backend>()>& make,
              const std::function<void(Backend&)>& reseed, const std::function<Result(Backend&)>& on_primary,
              const std::function<Result()>& on_fallback) {
    if (!primary && since_failure_ >= options_.retry_after_searches) {
      try {
        auto fresh = make();
        if (reseed) reseed(*fresh);
        primary = std::move(fresh);
        recovered();
      } catch (const std::runtime_error& error) {
        retry_failed(error);
      }
    }
    if (primary) {
      try {
        if (++primary_calls_ == options_.fail_primary_after) {
          throw std::runtime_error(
              "injected failure (fault.cuda_fail_after_batches = " + std::to_string(options_.fail_primary_after) + ")");
        }
        Result result = on_primary(*primary);
        counters_.primary_searches.fetch_add(1, std::memory_order_relaxed);
        return result;
      } catch (const std::runtime_error& error) {
        failed(error);
        primary.reset();
      }
    }
    ++since_failure_;
    counters_.fallback_searches.fetch_add(1, std::memory_order_relaxed);
    return on_fallback();
  }

  /// Logs and counts a primary failure outside call() (e.g. while loading state into it);
  /// the caller drops the primary.
  void failed(const std::exception& error);

  [[nodiscard]] const FailoverCounters& counters() const { return counters_; }
  [[nodiscard]] const std::string& primary_name() const { return primary_name_; }

 private:
  void recovered();
  void retry_failed(const std::exception& error);

  std::string what_;
  std::string primary_name_;
  FailoverOptions options_;
  std::uint64_t primary_calls_ = 0;
  std::uint64_t since_failure_ = 0;
  FailoverCounters counters_;
};

}  // namespace sensorgate::kernels
