#pragma once
// PrometheusText: builds a /metrics page in the Prometheus text exposition format 0.0.4.
// Samples are grouped by metric family whatever order they are added in, so each family
// has one HELP and one TYPE line followed by all its samples, as `promtool check metrics`
// requires. Names carry their unit (`_seconds`, `_bytes`) and counters end in `_total`.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sensorgate/common/stage_metrics.hpp"

namespace sensorgate {

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  /// `prefix` starts every name ("sensorgate_gateway_").
  explicit PrometheusText(std::string prefix) : prefix_(std::move(prefix)) {}

  void counter(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  void gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  void histogram(std::string_view name, std::string_view help, const LatencyHistogram::Snapshot& h,
                 const Labels& labels = {});
  /// Every metric of a stage, labelled stage="<name>" (and drops by kind).
  void stage(const StageSnapshot& stage);

  [[nodiscard]] std::string str() const;

 private:
  struct Family {
    std::string name;
    std::string type;
    std::string help;
    std::vector<std::string> samples;
  };
  Family& family(std::string_view name, std::string_view type, std::string_view help);

  std::string prefix_;
  std::vector<Family> families_;
};

}  // namespace sensorgate
