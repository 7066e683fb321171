#include "sensorgate/training/training_set.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <ostream>

#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate::training {
namespace {

constexpr std::size_t kBands = 5;

void write_rows(std::ostream& out, const TrainingSet& set, std::string_view split) {
  for (std::size_t r = 0; r < set.rows(); ++r) {
    const auto row = static_cast<Eigen::Index>(r);
    // Device ids are restricted to a CSV-safe charset at ingest, so no quoting is needed.
    fmt::print(out, "{},{}", set.device_ids[r], set.window_start_ns[r]);
    // max_digits10 so a reader gets back exactly the doubles the model trained on.
    for (Eigen::Index c = 0; c < set.features.cols(); ++c) fmt::print(out, ",{:.17g}", set.features(row, c));
    if (std::isnan(set.labels(row))) {
      fmt::print(out, ",,{}\n", split);
    } else {
      fmt::print(out, ",{},{}\n", set.labels(row), split);
    }
  }
}

}  // namespace

std::string TrainingSet::feature_spec() const {
  return uplink::summary_feature_spec(channels);
}

TrainingSet TrainingSet::subset(std::span<const std::size_t> indices) const {
  TrainingSet out;
  out.channels = channels;
  out.windows_read = windows_read;
  out.skipped_no_band_powers = skipped_no_band_powers;
  out.skipped_non_finite = skipped_non_finite;
  out.skipped_unlabelled = skipped_unlabelled;
  out.features.resize(static_cast<Eigen::Index>(indices.size()), features.cols());
  out.labels.resize(static_cast<Eigen::Index>(indices.size()));
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const auto from = static_cast<Eigen::Index>(indices[i]);
    out.features.row(static_cast<Eigen::Index>(i)) = features.row(from);
    out.labels(static_cast<Eigen::Index>(i)) = labels(from);
    out.window_start_ns.push_back(window_start_ns[indices[i]]);
    out.device_ids.push_back(device_ids[indices[i]]);
  }
  return out;
}

TrainingSet build_training_set(std::span<const collector::LabelledWindow> windows, bool require_labels) {
  TrainingSet set;
  set.windows_read = windows.size();
  // First pass: what to keep, and one channel count among them, before allocating the matrix.
  std::vector<std::size_t> kept;
  kept.reserve(windows.size());
  const collector::LabelledWindow* first = nullptr;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const auto& w = windows[i];
    const std::size_t channels = w.window.channels.size();
    if (channels == 0 || w.window.band_powers.size() != channels * kBands) {
      ++set.skipped_no_band_powers;
      continue;
    }
    if (require_labels && !w.label) {
      ++set.skipped_unlabelled;
      continue;
    }
    if (first == nullptr) {
      first = &w;
    } else if (channels != first->window.channels.size()) {
      throw TrainingError(fmt::format(
          "windows have different channel counts: device '{}' (gateway '{}') has {} channels at {} ns, device '{}' "
          "(gateway '{}') {} at {} ns; a model takes one channel count, so select devices with the same one "
          "(--devices)",
          first->window.device_id, first->gateway_id, first->window.channels.size(), first->window.window_start_ns,
          w.window.device_id, w.gateway_id, channels, w.window.window_start_ns));
    }
    kept.push_back(i);
  }
  set.channels = first != nullptr ? first->window.channels.size() : 0;
  const std::size_t columns = set.channels * uplink::kSummaryFeaturesPerChannel;
  set.features.resize(static_cast<Eigen::Index>(kept.size()), static_cast<Eigen::Index>(columns));
  set.labels.resize(static_cast<Eigen::Index>(kept.size()));
  std::vector<float> row(columns);
  Eigen::Index r = 0;
  for (const std::size_t i : kept) {
    const auto& w = windows[i];
    if (!uplink::summary_features(w.window, row)) {
      ++set.skipped_non_finite;
      continue;
    }
    for (std::size_t c = 0; c < columns; ++c) set.features(r, static_cast<Eigen::Index>(c)) = row[c];
    set.labels(r) = w.label ? static_cast<double>(*w.label) : std::numeric_limits<double>::quiet_NaN();
    set.window_start_ns.push_back(w.window.window_start_ns);
    set.device_ids.push_back(w.window.device_id);
    ++r;
  }
  set.features.conservativeResize(r, static_cast<Eigen::Index>(columns));
  set.labels.conservativeResize(r);
  return set;
}

TrainTestSplit split_by_time(const TrainingSet& set, double test_fraction) {
  if (!(test_fraction >= 0 && test_fraction < 1)) {
    throw std::invalid_argument(fmt::format("test fraction {} is not in [0, 1)", test_fraction));
  }
  const std::size_t n = set.rows();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Stable: rows of the same start keep the store's (gateway, device) order.
  std::ranges::stable_sort(
      order, [&](std::size_t a, std::size_t b) { return set.window_start_ns[a] < set.window_start_ns[b]; });
  // The 1e-9 keeps 0.3 * 10 (= 3.0000000000000004) from becoming 4 test rows.
  const auto test_rows = static_cast<std::size_t>(std::ceil((test_fraction * static_cast<double>(n)) - 1e-9));
  std::size_t cut = n - std::min(test_rows, n);
  const auto start_at = [&](std::size_t i) { return set.window_start_ns[order[i]]; };
  if (cut > 0 && cut < n) {
    std::size_t earlier = cut;
    while (earlier > 0 && start_at(earlier - 1) == start_at(earlier)) --earlier;
    if (earlier > 0) {
      cut = earlier;
    } else {
      while (cut < n && start_at(cut - 1) == start_at(cut)) ++cut;
    }
  }
  const std::span<const std::size_t> all(order);
  return {set.subset(all.first(cut)), set.subset(all.subspan(cut))};
}

std::vector<std::string> summary_feature_names(std::size_t channels) {
  static constexpr std::array<const char*, uplink::kSummaryFeaturesPerChannel> kNames = {
      "logvar", "logrange", "delta", "theta", "alpha", "beta", "gamma"};
  std::vector<std::string> names;
  names.reserve(channels * kNames.size());
  for (std::size_t c = 0; c < channels; ++c) {
    for (const char* name : kNames) names.push_back(fmt::format("c{}_{}", c, name));
  }
  return names;
}

void write_features_csv(std::ostream& out, const TrainTestSplit& split) {
  fmt::print(out, "device_id,window_start_ns,{},label,split\n",
             fmt::join(summary_feature_names(split.train.channels), ","));
  write_rows(out, split.train, "train");
  write_rows(out, split.test, "test");
}

}  // namespace sensorgate::training
