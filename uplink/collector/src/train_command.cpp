// sensorgate-collector train: stored windows -> features -> time split -> model ->
// metrics -> signed envelope in the store (and optionally a push request).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>

#include "commands.hpp"
#include "sensorgate/collector/store.hpp"
#include "sensorgate/training/trainer.hpp"
#include "sensorgate/training/training_set.hpp"
#include "sensorgate/uplink/model_envelope.hpp"

namespace sensorgate::collector {
namespace {

using Clock = std::chrono::steady_clock;

struct TrainFlags {
  std::string kind;
  std::optional<std::int64_t> from_ns;
  std::optional<std::int64_t> to_ns;
  std::vector<std::string> devices;
  double test_fraction = 0.3;
  std::size_t k = 8;
  std::size_t restarts = 10;
  std::uint64_t seed = 0;
  double c = 1.0;
  double alpha = 0;
  std::string signing_key = "model-signing.key";
  std::optional<std::string> push;
  std::optional<std::string> export_features;
};

/// A bar on stderr while the model fits, redrawn at most 10 times a second; nothing when
/// stderr is not a terminal (logs, CI), where a stream of carriage returns is only noise.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), terminal_(::isatty(::fileno(stderr)) != 0) {}

  void update(double fraction) {
    if (!terminal_ || done_) return;
    const auto now = Clock::now();
    if (fraction < 1.0 && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 30;
    const int filled = std::clamp(static_cast<int>(fraction * kWidth), 0, kWidth);
    fmt::print(stderr, "\r{} [{}{}] {:5.1f}%", label_, std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(kWidth - filled), '-'), 100 * fraction);
    if (fraction >= 1.0) {
      std::fputc('\n', stderr);
      done_ = true;
    }
  }

 private:
  std::string label_;
  bool terminal_;
  bool done_ = false;
  Clock::time_point last_{};
};

uplink::ModelKind parse_kind(const std::string& kind) {
  if (kind == "linear") return uplink::ModelKind::kLinearRegression;
  if (kind == "kmeans") return uplink::ModelKind::kKMeans;
  return uplink::ModelKind::kLogisticRegression;
}

/// Metrics as rows "name  train  test", in the order the trainer reported them.
void print_metrics(const training::TrainResult& result) {
  std::vector<std::string> names;
  std::map<std::string, std::pair<double, double>> values;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& m : result.metrics) {
    const bool train = m.name.starts_with("train_");
    const std::string name = m.name.substr(m.name.find('_') + 1);
    if (!values.contains(name)) {
      names.push_back(name);
      values[name] = {nan, nan};
    }
    (train ? values[name].first : values[name].second) = m.value;
  }
  fmt::print("{:<18} {:>12} {:>12}\n", "metric", "train", "test");
  for (const auto& name : names) {
    const auto [train, test] = values[name];
    const auto cell = [](double v) { return std::isnan(v) ? std::string("-") : fmt::format("{:.4f}", v); };
    fmt::print("{:<18} {:>12} {:>12}\n", name, cell(train), cell(test));
  }
}

int run_train(const TrainFlags& flags, const CommandContext& context) {
  if (flags.from_ns && flags.to_ns && *flags.from_ns >= *flags.to_ns) {
    return report_error(kExitUsage,
                        fmt::format("train: --from {} is not before --to {}", *flags.from_ns, *flags.to_ns));
  }
  if (flags.test_fraction >= 1.0) {
    return report_error(kExitUsage, "train: --test-fraction must be below 1 (some rows must train)");
  }
  const auto kind = parse_kind(flags.kind);
  uplink::SecretKey secret_key{};
  try {
    secret_key = uplink::read_secret_key_file(flags.signing_key);
  } catch (const std::exception& e) {
    return report_error(kExitFailure, fmt::format("train: {} (create a key pair with `sensorgate-collector keygen "
                                                  "--out DIR`, then pass --signing-key DIR/model-signing.key)",
                                                  e.what()));
  }
  const auto store = open_store(context.db_url);

  WindowQuery query;
  if (flags.from_ns) query.from_ns = *flags.from_ns;
  if (flags.to_ns) query.to_ns = *flags.to_ns;
  query.devices = flags.devices;
  const auto load_started = Clock::now();
  training::TrainingSet set;
  {
    // The windows are freed once their features are taken: they are the larger of the two.
    const auto windows = store->load_windows(query);
    set = training::build_training_set(windows, kind != uplink::ModelKind::kKMeans);
  }
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_started).count();
  if (set.windows_read == 0) {
    return report_error(kExitFailure, fmt::format("train: no windows in {} match the selection (--from, --to, "
                                                  "--devices)",
                                                  store->describe()));
  }
  fmt::print(
      "windows: {} read from {} in {:.2f} s, {} used ({} channels); skipped {} without band powers, {} with "
      "non-finite features, {} unlabelled\n",
      set.windows_read, store->describe(), load_seconds, set.rows(), set.channels, set.skipped_no_band_powers,
      set.skipped_non_finite, set.skipped_unlabelled);

  const auto split = training::split_by_time(set, flags.test_fraction);
  set = {};
  if (split.train.rows() > 0 && split.test.rows() > 0) {
    fmt::print("split by time: {} train rows ({} .. {}), {} test rows ({} .. {})\n", split.train.rows(),
               format_time_ns(split.train.window_start_ns.front()), format_time_ns(split.train.window_start_ns.back()),
               split.test.rows(), format_time_ns(split.test.window_start_ns.front()),
               format_time_ns(split.test.window_start_ns.back()));
  } else {
    fmt::print("split by time: {} train rows, {} test rows\n", split.train.rows(), split.test.rows());
  }
  if (flags.export_features) {
    std::ofstream out(*flags.export_features);
    if (out) training::write_features_csv(out, split);
    out.close();
    if (!out) return report_error(kExitFailure, fmt::format("train: cannot write {}", *flags.export_features));
    fmt::print("features written to {}\n", *flags.export_features);
  }

  training::TrainOptions options;
  options.kind = kind;
  options.c = flags.c;
  options.alpha = flags.alpha;
  options.k = flags.k;
  options.restarts = flags.restarts;
  options.seed = flags.seed;
  auto bar = std::make_shared<ProgressBar>(fmt::format("training {}", flags.kind));
  options.progress = [bar](double fraction) { bar->update(fraction); };
  auto result = training::train(split, options);
  bar->update(1.0);
  fmt::print("{} fitted on {} rows x {} features in {:.3f} s{}\n", flags.kind, result.train_rows,
             split.train.features.cols(), result.fit_seconds,
             result.iterations > 0 ? fmt::format(" ({} iterations)", result.iterations) : "");
  print_metrics(result);

  // The version goes into the signed bytes, so it is taken before signing; when another
  // `train` stores that version first, add_model throws and the model is signed again
  // under the next one.
  StoredModel stored;
  stored.kind = result.record.kind;
  stored.feature_spec = result.record.feature_spec;
  stored.created_at_ns = result.record.created_at_ns;
  stored.metrics_json = result.metrics_json();
  std::uint32_t version = 0;
  for (int attempt = 1;; ++attempt) {
    result.record.version = store->next_model_version();
    stored.version = result.record.version;
    stored.envelope = uplink::encode_signed_model(result.record, secret_key);
    try {
      version = store->add_model(stored);
      break;
    } catch (const std::runtime_error&) {
      if (attempt == 3 || store->next_model_version() == stored.version) throw;  // not a lost race
    }
  }
  if (version != result.record.version) {
    return report_error(kExitFailure, fmt::format("train: the store filed the model as v{} but it was signed as v{}",
                                                  version, result.record.version));
  }
  fmt::print("stored model v{} ({}, {}, payload {} bytes, envelope {} bytes)\n", version, flags.kind,
             stored.feature_spec, result.record.payload.size(), stored.envelope.size());
  if (flags.push) {
    const auto id = store->request_push(version, *flags.push, false);
    fmt::print("queued push of v{} to {} (request {}); the running collector delivers it\n", version,
               *flags.push == "*" ? std::string("every gateway") : "gateway " + *flags.push, id);
  }
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app, std::optional<std::string>& db) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand(
      "train",
      "train a model on stored windows (summary features; the earliest part by time trains, the latest tests), print "
      "its metrics, sign it and store it as the next model version");
  add_db_option(*cmd, db);
  cmd->add_option("--kind", flags->kind,
                  "logistic (classifier of labels 0/1), linear (regression on the label) or kmeans (centroids)")
      ->required()
      ->check(CLI::IsMember({"logistic", "linear", "kmeans"}));
  cmd->add_option("--from", flags->from_ns, "only windows starting at or after this time (ns since the epoch)");
  cmd->add_option("--to", flags->to_ns, "only windows ending at or before this time (ns since the epoch)");
  cmd->add_option("--devices", flags->devices, "only these devices, e.g. eeg-1,eeg-2 (default: all)")->delimiter(',');
  cmd->add_option("--test-fraction", flags->test_fraction, "share of the windows, the latest, kept for testing")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--k", flags->k, "kmeans: number of centroids")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--restarts", flags->restarts, "kmeans: runs from different seeds, the best kept")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--seed", flags->seed, "kmeans: seed of the k-means++ initialisation")->capture_default_str();
  cmd->add_option("--c", flags->c, "logistic: inverse L2 regularisation strength (scikit-learn's C)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--alpha", flags->alpha, "linear: ridge penalty (0: ordinary least squares)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--signing-key", flags->signing_key, "model-signing secret key file (from keygen)")
      ->capture_default_str();
  cmd->add_option("--push", flags->push, "after storing, queue a push to this gateway id, or * for every gateway");
  cmd->add_option("--export-features", flags->export_features,
                  "write the train and test features, labels and split to this CSV (for "
                  "scripts/sklearn_logreg_compare.py)");
  return {cmd, [flags](const CommandContext& context) { return run_train(*flags, context); }};
}

}  // namespace sensorgate::collector
