#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include "sensorgate/training/kmeans.hpp"
#include "sensorgate/training/linear_regression.hpp"
#include "sensorgate/training/logistic_regression.hpp"
#include "sensorgate/training/metrics.hpp"
#include "sensorgate/training/standard_scaler.hpp"
#include "sensorgate/training/trainer.hpp"
#include "sensorgate/training/training_set.hpp"
#include "sensorgate/uplink/model_payload.hpp"
#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate::training {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// 16 rows, 3 features, two classes that overlap (so the optimum is finite even without
// the penalty, and the penalty still matters).
MatrixXd sklearn_x() {
  MatrixXd x(16, 3);
  x << 0.5, 1.2, -0.3, 1.5, 0.3, 0.8, -0.7, 2.1, 0.1, 2.2, -0.4, 1.5,   //
      0.1, 0.9, -1.2, 1.8, 1.7, 0.4, -1.1, -0.6, 0.9, 0.9, -1.3, -0.5,  //
      2.5, 0.8, 1.1, -0.3, 1.6, -0.8, 1.2, -0.2, 2.0, 0.0, 0.0, 0.0,    //
      1.7, 2.4, -1.0, -0.9, 0.4, 1.3, 2.9, -0.9, 0.2, 0.4, -1.8, 0.6;
  return x;
}

VectorXd sklearn_y() {
  VectorXd y(16);
  y << 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1;
  return y;
}

/// A window of `channels` channels whose alpha band power is `alpha` and whose other
/// values vary a little with `jitter`, so features are neither constant nor collinear.
uplink::WindowSummaryRecord make_window(const std::string& device, std::int64_t start_ns, std::size_t channels,
                                        double alpha, double jitter) {
  uplink::WindowSummaryRecord w;
  w.device_id = device;
  w.window_start_ns = start_ns;
  w.window_end_ns = start_ns + 1'000'000'000;
  for (std::size_t c = 0; c < channels; ++c) {
    uplink::ChannelStatsRecord s;
    s.channel = static_cast<std::uint16_t>(c);
    s.count = 256;
    s.min = static_cast<float>(-50 - (10 * jitter));
    s.max = static_cast<float>(50 + (5 * jitter * static_cast<double>(c + 1)));
    s.variance = 100 + (20 * jitter) + static_cast<double>(c);
    w.channels.push_back(s);
    const std::array<double, 5> bands = {40 + (3 * jitter), 20 - jitter, alpha * (1 + (0.1 * jitter)), 8 + (2 * jitter),
                                         2 + (0.5 * jitter * jitter)};
    for (const double b : bands) w.band_powers.push_back(static_cast<float>(b));
  }
  return w;
}

/// Two classes told apart by alpha power (class 1: 10x more), in time order. With
/// `amplitude` 0 every other feature is constant.
std::vector<collector::LabelledWindow> separable_windows(std::size_t n, std::size_t channels, unsigned seed,
                                                         double amplitude = 1.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-amplitude, amplitude);
  std::vector<collector::LabelledWindow> out;
  for (std::size_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(i % 2);
    const double alpha = label == 1 ? 300.0 : 30.0;
    out.push_back(
        {"gw", make_window("dev", static_cast<std::int64_t>(i) * 1'000'000'000, channels, alpha, jitter(rng)), label});
  }
  return out;
}

TEST(LogisticRegression, FixedDataset_MatchesScikitLearn) {
  // Reference computed once with scikit-learn 1.2.1 (Debian 12's python3-sklearn):
  //   LogisticRegression(C=1.0, tol=1e-10, max_iter=100000).fit(X, y)
  // on sklearn_x()/sklearn_y() above; coef_ and intercept_ printed to 10 decimals.
  LogisticRegression model;
  model.fit(sklearn_x(), sklearn_y());
  ASSERT_TRUE(model.converged());
  EXPECT_NEAR(model.weights()(0), 1.5487402948, 1e-4);
  EXPECT_NEAR(model.weights()(1), -0.0330572175, 1e-4);
  EXPECT_NEAR(model.weights()(2), 0.729387319, 1e-4);
  EXPECT_NEAR(model.intercept(), -1.3138579001, 1e-4);
}

TEST(LogisticRegression, StandardisedPipeline_MatchesScikitLearn) {
  // Reference, as above, of StandardScaler().fit(X) then LogisticRegression(C=1.0,
  // tol=1e-10, max_iter=100000) on the scaled X: scaler mean_/scale_, then coef_/intercept_.
  StandardScaler scaler;
  scaler.fit(sklearn_x());
  EXPECT_NEAR(scaler.mean()(0), 0.79375, 1e-12);
  EXPECT_NEAR(scaler.mean()(1), 0.3875, 1e-12);
  EXPECT_NEAR(scaler.mean()(2), 0.31875, 1e-12);
  EXPECT_NEAR(scaler.scale()(0), 1.20076473, 1e-8);
  EXPECT_NEAR(scaler.scale()(1), 1.18999737, 1e-8);
  EXPECT_NEAR(scaler.scale()(2), 0.9001519, 1e-8);
  LogisticRegression model;
  model.fit(scaler.transform(sklearn_x()), sklearn_y());
  EXPECT_NEAR(model.weights()(0), 1.6213639465, 1e-4);
  EXPECT_NEAR(model.weights()(1), -0.0057147923, 1e-4);
  EXPECT_NEAR(model.weights()(2), 0.7074774257, 1e-4);
  EXPECT_NEAR(model.intercept(), 0.1219906671, 1e-4);
  // scikit-learn's predict_proba(...)[:3, 1] for the same model.
  const VectorXd p = model.predict_proba(scaler.transform(sklearn_x()));
  EXPECT_NEAR(p(0), 0.3175912774, 1e-4);
  EXPECT_NEAR(p(1), 0.8106567859, 1e-4);
  EXPECT_NEAR(p(2), 0.1115370988, 1e-4);
}

TEST(LogisticRegression, SeparableData_AccuracyOneAndProgressToOne) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.3);
  MatrixXd x(200, 2);
  VectorXd y(200);
  for (Eigen::Index i = 0; i < 200; ++i) {
    y(i) = static_cast<double>(i % 2);
    const double centre = y(i) == 1 ? 2.0 : -2.0;
    x(i, 0) = centre + noise(rng);
    x(i, 1) = noise(rng);
  }
  std::vector<double> progress;
  LogisticRegressionOptions options;
  options.progress = [&](double f) { progress.push_back(f); };
  LogisticRegression model(options);
  model.fit(x, y);
  EXPECT_TRUE(model.converged());
  const VectorXd predicted = (model.predict_proba(x).array() >= 0.5).cast<double>();
  EXPECT_EQ(accuracy(binary_counts(y, predicted)), 1.0);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), 1.0);
  for (std::size_t i = 1; i < progress.size(); ++i) EXPECT_GE(progress[i], progress[i - 1]);
}

TEST(LogisticRegression, OneClassOrBadLabel_Throws) {
  LogisticRegression model;
  EXPECT_THROW(model.fit(sklearn_x(), VectorXd::Zero(16)), std::invalid_argument);
  VectorXd y = sklearn_y();
  y(3) = 2;
  EXPECT_THROW(model.fit(sklearn_x(), y), std::invalid_argument);
}

TEST(LinearRegression, ExactPlane_RecoversCoefficients) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-5.0, 5.0);
  MatrixXd x(50, 2);
  VectorXd y(50);
  for (Eigen::Index i = 0; i < 50; ++i) {
    x(i, 0) = u(rng);
    x(i, 1) = u(rng);
    y(i) = (2 * x(i, 0)) - (3 * x(i, 1)) + 1;
  }
  LinearRegression model;
  model.fit(x, y);
  EXPECT_NEAR(model.weights()(0), 2.0, 1e-9);
  EXPECT_NEAR(model.weights()(1), -3.0, 1e-9);
  EXPECT_NEAR(model.intercept(), 1.0, 1e-9);
  EXPECT_NEAR(r2_score(y, model.predict(x)), 1.0, 1e-12);
}

TEST(LinearRegression, RidgeOneFeature_MatchesClosedForm) {
  // One feature: w = sum(xc * yc) / (sum(xc^2) + alpha), b = mean(y) - w mean(x), with
  // xc, yc centred; the intercept is not shrunk.
  MatrixXd x(4, 1);
  x << 1, 2, 3, 4;
  VectorXd y(4);
  y << 2, 4, 5, 9;
  // mean x 2.5, mean y 5; xc = -1.5 -0.5 0.5 1.5; yc = -3 -1 0 4; sum xc yc = 11; sum xc^2 = 5.
  LinearRegression model(LinearRegressionOptions{2.0});
  model.fit(x, y);
  EXPECT_NEAR(model.weights()(0), 11.0 / 7.0, 1e-12);
  EXPECT_NEAR(model.intercept(), 5.0 - (2.5 * 11.0 / 7.0), 1e-12);
}

TEST(LinearRegression, ConstantFeature_MinimumNormSolution) {
  MatrixXd x(4, 2);
  x << 1, 0, 2, 0, 3, 0, 4, 0;
  VectorXd y(4);
  y << 3, 5, 7, 9;
  LinearRegression model;
  model.fit(x, y);
  EXPECT_NEAR(model.weights()(0), 2.0, 1e-12);
  EXPECT_NEAR(model.weights()(1), 0.0, 1e-12);
  EXPECT_NEAR(model.intercept(), 1.0, 1e-12);
}

TEST(KMeans, ThreeBlobs_RecoversCentres) {
  const MatrixXd truth = (MatrixXd(3, 2) << 0, 0, 10, 10, -10, 10).finished();
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 0.5);
  MatrixXd x(300, 2);
  for (Eigen::Index i = 0; i < 300; ++i) {
    x(i, 0) = truth(i % 3, 0) + noise(rng);
    x(i, 1) = truth(i % 3, 1) + noise(rng);
  }
  KMeansOptions options;
  options.k = 3;
  options.seed = 42;
  KMeans model(options);
  model.fit(x);
  ASSERT_EQ(model.centres().rows(), 3);
  for (Eigen::Index t = 0; t < 3; ++t) {
    const double nearest = (model.centres().rowwise() - truth.row(t)).rowwise().norm().minCoeff();
    EXPECT_LT(nearest, 0.2) << "blob " << t;
  }
  // 300 points with per-axis variance 0.25 around their centres: inertia ~ 300 * 2 * 0.25.
  EXPECT_NEAR(model.inertia(), 150.0, 30.0);
  const Eigen::VectorXi labels = model.predict(x);
  for (Eigen::Index i = 3; i < 300; ++i) EXPECT_EQ(labels(i), labels(i % 3)) << "row " << i;

  // Deterministic by seed.
  KMeans again(options);
  again.fit(x);
  EXPECT_EQ(again.centres(), model.centres());
}

TEST(KMeans, FewerRowsThanK_Throws) {
  KMeansOptions options;
  options.k = 5;
  KMeans model(options);
  EXPECT_THROW(model.fit(MatrixXd::Zero(3, 2)), std::invalid_argument);
}

TEST(Metrics, RocAucWithTies_MatchesHandComputation) {
  // Positives score 0.35, 0.8, 0.4; negatives 0.1, 0.4, 0.4. Of the 9 (positive, negative)
  // pairs the positive wins 1 + 3 + 1 and ties 2 (each half): 6 / 9.
  const VectorXd truth = (VectorXd(6) << 0, 0, 1, 1, 0, 1).finished();
  const VectorXd scores = (VectorXd(6) << 0.1, 0.4, 0.35, 0.8, 0.4, 0.4).finished();
  EXPECT_NEAR(roc_auc(truth, scores), 6.0 / 9.0, 1e-12);
  EXPECT_NEAR(roc_auc(truth, -scores), 3.0 / 9.0, 1e-12);
  EXPECT_TRUE(std::isnan(roc_auc(VectorXd::Ones(3), scores.head(3))));
}

TEST(Metrics, PrecisionRecallF1_MatchHandComputation) {
  // TP 2 (rows 0, 4), FP 1 (row 3), FN 2 (rows 1, 6), TN 2.
  const VectorXd truth = (VectorXd(7) << 1, 1, 0, 0, 1, 0, 1).finished();
  const VectorXd predicted = (VectorXd(7) << 1, 0, 0, 1, 1, 0, 0).finished();
  const auto c = binary_counts(truth, predicted);
  EXPECT_DOUBLE_EQ(accuracy(c), 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(precision(c), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(recall(c), 0.5);
  EXPECT_DOUBLE_EQ(f1_score(c), 4.0 / 7.0);  // 2 * (2/3) * (1/2) / (2/3 + 1/2)
  const auto none = binary_counts(VectorXd::Zero(3), VectorXd::Zero(3));
  EXPECT_EQ(precision(none), 0.0);
  EXPECT_EQ(f1_score(none), 0.0);
}

TEST(Metrics, R2AndMse_MatchHandComputation) {
  const VectorXd truth = (VectorXd(4) << 3, -0.5, 2, 7).finished();
  const VectorXd predicted = (VectorXd(4) << 2.5, 0.0, 2, 8).finished();
  // SS_res = 0.25 + 0.25 + 0 + 1 = 1.5; mean 2.875, SS_tot = 29.1875.
  EXPECT_NEAR(r2_score(truth, predicted), 1.0 - (1.5 / 29.1875), 1e-12);
  EXPECT_NEAR(mean_squared_error(truth, predicted), 0.375, 1e-12);
  EXPECT_EQ(r2_score(VectorXd::Ones(3), VectorXd::Ones(3)), 1.0);
  EXPECT_EQ(r2_score(VectorXd::Ones(3), VectorXd::Zero(3)), 0.0);
}

TEST(StandardScaler, ConstantFeature_ScaleOne) {
  MatrixXd x(3, 2);
  x << 1, 7, 2, 7, 3, 7;
  StandardScaler scaler;
  scaler.fit(x);
  EXPECT_EQ(scaler.scale()(1), 1.0);
  EXPECT_NEAR(scaler.scale()(0), std::sqrt(2.0 / 3.0), 1e-12);
  const MatrixXd z = scaler.transform(x);
  EXPECT_EQ(z.col(1), VectorXd::Zero(3));
}

TEST(TrainingSet, MixedWindows_SkipsAndCounts) {
  std::vector<collector::LabelledWindow> windows;
  windows.push_back({"gw", make_window("a", 0, 2, 50, 0.1), 1});
  auto no_bands = make_window("a", 1, 2, 50, 0.2);
  no_bands.band_powers.clear();
  windows.push_back({"gw", no_bands, 0});
  auto bad = make_window("a", 2, 2, 50, 0.3);
  bad.channels[1].variance = std::numeric_limits<double>::infinity();
  windows.push_back({"gw", bad, 0});
  windows.push_back({"gw", make_window("a", 3, 2, 50, 0.4), std::nullopt});
  windows.push_back({"gw", make_window("b", 4, 2, 50, 0.5), 0});

  const auto supervised = build_training_set(windows, true);
  EXPECT_EQ(supervised.windows_read, 5U);
  EXPECT_EQ(supervised.rows(), 2U);
  EXPECT_EQ(supervised.skipped_no_band_powers, 1U);
  EXPECT_EQ(supervised.skipped_non_finite, 1U);
  EXPECT_EQ(supervised.skipped_unlabelled, 1U);
  EXPECT_EQ(supervised.channels, 2U);
  EXPECT_EQ(supervised.feature_spec(), uplink::summary_feature_spec(2));
  ASSERT_EQ(supervised.features.cols(), 14);
  // Row 1 is window 4: its features are exactly what the gateway would compute.
  std::vector<float> expected(14);
  ASSERT_TRUE(uplink::summary_features(windows[4].window, expected));
  for (Eigen::Index c = 0; c < 14; ++c) EXPECT_EQ(supervised.features(1, c), expected[static_cast<std::size_t>(c)]);
  EXPECT_EQ(supervised.labels(1), 0.0);

  const auto unsupervised = build_training_set(windows, false);
  EXPECT_EQ(unsupervised.rows(), 3U);
  EXPECT_TRUE(std::isnan(unsupervised.labels(1)));
}

TEST(TrainingSet, DifferentChannelCounts_ClearError) {
  std::vector<collector::LabelledWindow> windows;
  windows.push_back({"gw", make_window("a", 0, 2, 50, 0.1), 1});
  windows.push_back({"gw", make_window("b", 1, 3, 50, 0.1), 1});
  try {
    (void)build_training_set(windows, true);
    FAIL() << "expected a TrainingError";
  } catch (const TrainingError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("different channel counts"), std::string::npos) << what;
    EXPECT_NE(what.find("'b'"), std::string::npos) << what;
    EXPECT_NE(what.find("--devices"), std::string::npos) << what;
  }
}

TEST(SplitByTime, ShuffledRows_EarliestTrainLatestTest) {
  // Windows out of order, two devices on the same grid: starts 0..9 s, each twice.
  std::vector<collector::LabelledWindow> windows;
  for (const int t : {7, 2, 9, 0, 5, 3, 8, 1, 6, 4}) {
    for (const char* device : {"a", "b"}) {
      windows.push_back({"gw", make_window(device, t * 1'000'000'000LL, 1, 50, 0.1 * t), t % 2});
    }
  }
  const auto set = build_training_set(windows, true);
  const auto split = split_by_time(set, 0.3);
  EXPECT_EQ(split.train.rows(), 14U);
  EXPECT_EQ(split.test.rows(), 6U);
  for (std::size_t i = 1; i < split.train.rows(); ++i) {
    EXPECT_LE(split.train.window_start_ns[i - 1], split.train.window_start_ns[i]);
  }
  EXPECT_EQ(split.train.window_start_ns.back(), 6'000'000'000);
  EXPECT_EQ(split.test.window_start_ns.front(), 7'000'000'000);

  // 0.25 of 20 is 5 test rows, which would cut the pair at 7 s; the pair goes to test.
  const auto grouped = split_by_time(set, 0.25);
  EXPECT_EQ(grouped.train.rows(), 14U);
  EXPECT_EQ(grouped.test.rows(), 6U);
  EXPECT_LT(grouped.train.window_start_ns.back(), grouped.test.window_start_ns.front());

  EXPECT_EQ(split_by_time(set, 0.0).test.rows(), 0U);
  EXPECT_THROW((void)split_by_time(set, 1.0), std::invalid_argument);
}

TEST(Trainer, LogisticOnWindows_RecordPredictsLikeTheModel) {
  const auto windows = separable_windows(200, 4, 5);
  const auto split = split_by_time(build_training_set(windows, true), 0.3);
  TrainOptions options;
  options.kind = uplink::ModelKind::kLogisticRegression;
  const auto result = train(split, options);
  EXPECT_EQ(result.train_rows, 140U);
  EXPECT_EQ(result.test_rows, 60U);
  EXPECT_EQ(result.metric("test_accuracy"), 1.0);
  EXPECT_EQ(result.metric("test_roc_auc"), 1.0);
  EXPECT_EQ(result.record.feature_spec, uplink::summary_feature_spec(4));
  EXPECT_EQ(result.record.kind, uplink::ModelKind::kLogisticRegression);
  EXPECT_NE(result.metrics_json().find("\"test_f1\":1"), std::string::npos) << result.metrics_json();

  // The gateway's path: decode the payload, predict from raw features.
  std::string error;
  const auto model = uplink::decode_linear_model(result.record.payload, error);
  ASSERT_TRUE(model) << error;
  ASSERT_EQ(uplink::feature_count(*model), 28U);
  std::vector<float> features(28);
  for (std::size_t i = 140; i < 200; ++i) {
    ASSERT_TRUE(uplink::summary_features(windows[i].window, features));
    const float p = uplink::predict_logistic(*model, features);
    EXPECT_EQ(p >= 0.5F, windows[i].label == 1) << "window " << i << " p " << p;
  }
}

TEST(Trainer, LinearAndKMeans_RecordsDecode) {
  const auto windows = separable_windows(60, 2, 9);
  const auto split = split_by_time(build_training_set(windows, true), 0.3);
  TrainOptions linear;
  linear.kind = uplink::ModelKind::kLinearRegression;
  const auto lr = train(split, linear);
  EXPECT_GT(lr.metric("test_r2"), 0.99);
  std::string error;
  EXPECT_TRUE(uplink::decode_linear_model(lr.record.payload, error)) << error;

  // Standardisation gives every varying feature unit variance, so for k-means the classes
  // are the clusters only when nothing else varies: jitter off.
  const auto steady = separable_windows(60, 2, 9, 0.0);
  TrainOptions kmeans;
  kmeans.kind = uplink::ModelKind::kKMeans;
  kmeans.k = 2;
  const auto km = train(split_by_time(build_training_set(steady, false), 0.3), kmeans);
  const auto centroids = uplink::decode_centroid_model(km.record.payload, error);
  ASSERT_TRUE(centroids) << error;
  EXPECT_EQ(centroids->k, 2U);
  // The two alpha levels are the two clusters: each class maps to its own centroid.
  std::vector<float> features(14);
  ASSERT_TRUE(uplink::summary_features(steady[0].window, features));
  const auto c0 = uplink::nearest_centroid(*centroids, features);
  ASSERT_TRUE(uplink::summary_features(steady[1].window, features));
  EXPECT_NE(uplink::nearest_centroid(*centroids, features), c0);
  EXPECT_FALSE(std::isnan(km.metric("test_inertia")));
}

TEST(Trainer, NoUsableRows_TrainingErrorSaysWhy) {
  std::vector<collector::LabelledWindow> windows = separable_windows(4, 2, 1);
  for (auto& w : windows) w.label.reset();
  const auto split = split_by_time(build_training_set(windows, true), 0.3);
  try {
    (void)train(split, TrainOptions{});
    FAIL() << "expected a TrainingError";
  } catch (const TrainingError& e) {
    EXPECT_NE(std::string(e.what()).find("4 unlabelled"), std::string::npos) << e.what();
  }
}

TEST(WriteFeaturesCsv, HeaderAndRows_SplitColumn) {
  const auto windows = separable_windows(10, 1, 2);
  const auto split = split_by_time(build_training_set(windows, true), 0.3);
  std::ostringstream out;
  write_features_csv(out, split);
  std::istringstream in(out.str());
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line,
            "device_id,window_start_ns,c0_logvar,c0_logrange,c0_delta,c0_theta,c0_alpha,c0_beta,c0_gamma,label,split");
  int train_rows = 0;
  int test_rows = 0;
  while (std::getline(in, line)) {
    if (line.ends_with(",train")) ++train_rows;
    if (line.ends_with(",test")) ++test_rows;
  }
  EXPECT_EQ(train_rows, 7);
  EXPECT_EQ(test_rows, 3);
}

}  // namespace
}  // namespace sensorgate::training
