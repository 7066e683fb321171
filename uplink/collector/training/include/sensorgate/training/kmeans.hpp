#pragma once
// Batch k-means for the gateway's initial centroids: k-means++ seeding (deterministic by
// seed), Lloyd iterations until the centres move less than `tolerance` (relative to the
// data's mean variance, as scikit-learn), and `restarts` runs keeping the lowest inertia.

#include <Eigen/Dense>

#include <cstddef>
#include <cstdint>

#include "sensorgate/training/progress.hpp"

namespace sensorgate::training {

struct KMeansOptions {
  std::size_t k = 8;
  std::size_t restarts = 10;  ///< scikit-learn's n_init
  std::size_t max_iterations = 300;
  double tolerance = 1e-4;
  std::uint64_t seed = 0;
  ProgressCallback progress;  ///< after each restart
};

class KMeans {
 public:
  explicit KMeans(KMeansOptions options);

  /// Clusters the rows of `x`. Throws std::invalid_argument when there are fewer rows
  /// than k, k is 0, or a value is not finite.
  void fit(const Eigen::Ref<const Eigen::MatrixXd>& x);

  /// Index of the nearest centre per row (lowest index on ties).
  [[nodiscard]] Eigen::VectorXi predict(const Eigen::Ref<const Eigen::MatrixXd>& x) const;

  /// k x features, one centre per row.
  [[nodiscard]] const Eigen::MatrixXd& centres() const { return centres_; }
  /// Sum of squared distances of the training rows to their centre, for the kept run.
  [[nodiscard]] double inertia() const { return inertia_; }
  /// Lloyd iterations of the kept run.
  [[nodiscard]] std::size_t iterations() const { return iterations_; }

 private:
  KMeansOptions options_;
  Eigen::MatrixXd centres_;
  double inertia_ = 0;
  std::size_t iterations_ = 0;
};

}  // namespace sensorgate::training
