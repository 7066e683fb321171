#pragma once
// Model payloads: the bytes inside a signed ModelEnvelope for the models the collector
// trains offline on summary features (summary_features.hpp). The collector encodes them,
// a gateway decodes them after verify_signed_model() and predicts with them, so both sides
// share these few functions and the layout in docs/wire-format.md ("Model payloads").
//
// Both models carry their own standardisation (x' = (x - mean) / scale) because training
// happens on standardised features and a gateway only has the raw ones.
//
// A decoder is the gateway's only defence against a buggy (though signed) payload, so it
// validates everything, reads nothing outside its input and never throws.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sensorgate::uplink {

/// Logistic regression (P(class 1) = sigmoid(w·x' + b)) or linear regression (w·x' + b).
struct LinearModel {
  std::vector<float> mean;
  std::vector<float> scale;  ///< > 0
  std::vector<float> weights;
  float bias = 0;
};

/// k-means centroids, in standardised space; a window's class is its nearest centroid.
struct CentroidModel {
  std::vector<float> mean;
  std::vector<float> scale;  ///< > 0
  std::size_t k = 0;
  std::vector<float> centroids;  ///< k x features, row-major, standardised
};

/// A decoded payload holds at most this many floats in all (4 MB), whatever its counts say.
inline constexpr std::size_t kMaxPayloadFloats = 1'000'000;

[[nodiscard]] inline std::size_t feature_count(const LinearModel& model) {
  return model.weights.size();
}
[[nodiscard]] inline std::size_t feature_count(const CentroidModel& model) {
  return model.mean.size();
}

/// Encodes a model. Throws std::invalid_argument when the model is not one the decoder
/// would accept (inconsistent sizes, non-finite values, scale <= 0, too large), so a bad
/// model fails at the collector instead of at every gateway.
[[nodiscard]] std::vector<std::uint8_t> encode_linear_model(const LinearModel& model);
[[nodiscard]] std::vector<std::uint8_t> encode_centroid_model(const CentroidModel& model);

/// Decodes a payload; nullopt with the reason in `error` when anything is wrong.
[[nodiscard]] std::optional<LinearModel> decode_linear_model(std::span<const std::uint8_t> bytes, std::string& error);
[[nodiscard]] std::optional<CentroidModel> decode_centroid_model(std::span<const std::uint8_t> bytes,
                                                                 std::string& error);

/// P(class 1) for `x` (raw features). Throws std::invalid_argument when x.size() is not
/// feature_count(model); a gateway checks the count once, when the model arrives.
[[nodiscard]] float predict_logistic(const LinearModel& model, std::span<const float> x);
/// w·x' + b for `x` (raw features); same error as predict_logistic().
[[nodiscard]] float predict_linear(const LinearModel& model, std::span<const float> x);
/// Index of the centroid nearest to standardised `x` (lowest index on ties); same error.
[[nodiscard]] std::size_t nearest_centroid(const CentroidModel& model, std::span<const float> x);

}  // namespace sensorgate::uplink
