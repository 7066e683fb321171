#include "sensorgate/kernels/failover.hpp"

#include <spdlog/spdlog.h>

namespace sensorgate::kernels {

void FailoverSwitch::failed(const std::exception& error) {
  spdlog::error("{}: {} backend failed ({}); working on the CPU, {} retried after {} batches", what_, primary_name_,
                error.what(), primary_name_, options_.retry_after_searches);
  counters_.failures.fetch_add(1, std::memory_order_relaxed);
  since_failure_ = 0;
}

void FailoverSwitch::recovered() {
  counters_.recoveries.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("{}: back on the {} backend after {} batches on the CPU", what_, primary_name_, since_failure_);
}

void FailoverSwitch::retry_failed(const std::exception& error) {
  spdlog::warn("{}: {} backend still unavailable ({}); staying on the CPU", what_, primary_name_, error.what());
  since_failure_ = 0;
}

}  // namespace sensorgate::kernels
