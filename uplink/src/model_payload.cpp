#include "sensorgate/uplink/model_payload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace sensorgate::uplink {
namespace {

static_assert(std::endian::native == std::endian::little, "model payloads are little-endian");
static_assert(std::numeric_limits<float>::is_iec559, "model payloads hold IEEE-754 binary32 floats");

constexpr std::array<std::uint8_t, 4> kLinearMagic = {'S', 'G', 'L', 'M'};
constexpr std::array<std::uint8_t, 4> kCentroidMagic = {'S', 'G', 'C', 'M'};
constexpr std::uint32_t kFormatVersion = 1;

class Writer {
 public:
  explicit Writer(std::size_t size) { out_.reserve(size); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void u32(std::uint32_t v) { raw(&v, sizeof(v)); }
  void f32(float v) { raw(&v, sizeof(v)); }
  void floats(std::span<const float> v) { raw(v.data(), v.size_bytes()); }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  void raw(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    out_.insert(out_.end(), p, p + size);
  }
  std::vector<std::uint8_t> out_;
};

// Every read checks the remaining length first, so a lying count can never make the
// decoder read past the buffer.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - pos_; }
  bool magic(const std::array<std::uint8_t, 4>& expected) {
    if (remaining() < expected.size()) return false;
    const bool same = std::memcmp(bytes_.data() + pos_, expected.data(), expected.size()) == 0;
    pos_ += expected.size();
    return same;
  }
  bool u32(std::uint32_t& v) { return raw(&v, sizeof(v)); }
  bool f32(float& v) { return raw(&v, sizeof(v)); }
  bool floats(std::vector<float>& v, std::size_t n) {
    if (remaining() / sizeof(float) < n) return false;
    v.resize(n);
    return raw(v.data(), n * sizeof(float));
  }

 private:
  bool raw(void* out, std::size_t size) {
    if (remaining() < size) return false;
    std::memcpy(out, bytes_.data() + pos_, size);
    pos_ += size;
    return true;
  }
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

bool all_finite(std::span<const float> v) {
  return std::ranges::all_of(v, [](float x) { return std::isfinite(x); });
}

/// Empty when mean/scale describe a valid standardisation of n features, else the reason.
std::string check_standardisation(std::span<const float> mean, std::span<const float> scale, std::size_t n) {
  if (mean.size() != n || scale.size() != n) {
    return fmt::format("mean/scale have {}/{} values for {} features", mean.size(), scale.size(), n);
  }
  if (!all_finite(mean)) return "a mean is not finite";
  for (std::size_t i = 0; i < n; ++i) {
    // A zero scale would divide by zero at every prediction; training gives constant
    // features scale 1 for exactly this reason.
    if (!std::isfinite(scale[i]) || scale[i] <= 0)
      return fmt::format("scale[{}] = {} is not a positive number", i, scale[i]);
  }
  return {};
}

std::string check_linear(const LinearModel& m) {
  const std::size_t n = m.weights.size();
  if (n == 0) return "the model has no features";
  if (n > (kMaxPayloadFloats - 1) / 3) return fmt::format("{} features exceed the payload limit", n);
  if (auto e = check_standardisation(m.mean, m.scale, n); !e.empty()) return e;
  if (!all_finite(m.weights)) return "a weight is not finite";
  if (!std::isfinite(m.bias)) return "the bias is not finite";
  return {};
}

std::string check_centroid(const CentroidModel& m) {
  const std::size_t n = m.mean.size();
  if (n == 0) return "the model has no features";
  if (m.k == 0) return "the model has no centroids";
  // Both counts must fit the wire's u32, and then (2 + k) * n fits in 64 bits. Compared as
  // 64-bit values so that with a 32-bit size_t (armhf) the test is not always false.
  constexpr std::uint64_t kMaxCount = std::numeric_limits<std::uint32_t>::max();
  if (static_cast<std::uint64_t>(n) > kMaxCount || static_cast<std::uint64_t>(m.k) > kMaxCount ||
      static_cast<std::uint64_t>(n) * (2 + static_cast<std::uint64_t>(m.k)) > kMaxPayloadFloats) {
    return fmt::format("{} centroids x {} features exceed the payload limit", m.k, n);
  }
  if (auto e = check_standardisation(m.mean, m.scale, n); !e.empty()) return e;
  if (m.centroids.size() != m.k * n) {
    return fmt::format("{} centroid values for {} centroids x {} features", m.centroids.size(), m.k, n);
  }
  if (!all_finite(m.centroids)) return "a centroid value is not finite";
  return {};
}

void check_input(std::size_t expected, std::size_t got) {
  if (got != expected) throw std::invalid_argument(fmt::format("model expects {} features, got {}", expected, got));
}

/// w·x' + b in double: features are logs of powers, and float cancellation in
/// (x - mean) would cost digits the gateway's prediction should not lose.
double linear_score(const LinearModel& m, std::span<const float> x) {
  check_input(m.weights.size(), x.size());
  double z = m.bias;
  for (std::size_t i = 0; i < x.size(); ++i) {
    z += static_cast<double>(m.weights[i]) * ((static_cast<double>(x[i]) - m.mean[i]) / m.scale[i]);
  }
  return z;
}

std::uint32_t u32_count(std::size_t n) {
  return static_cast<std::uint32_t>(n);
}

bool decode_header(Reader& r, const std::array<std::uint8_t, 4>& magic, std::string_view what, std::string& error) {
  if (!r.magic(magic)) {
    error = fmt::format("not a {} payload (magic)", what);
    return false;
  }
  std::uint32_t version = 0;
  if (!r.u32(version)) {
    error = fmt::format("{} payload truncated in its header", what);
    return false;
  }
  if (version != kFormatVersion) {
    error = fmt::format("{} payload format version {} is not supported (expected {})", what, version, kFormatVersion);
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode_linear_model(const LinearModel& model) {
  if (auto e = check_linear(model); !e.empty()) throw std::invalid_argument("linear model: " + e);
  const std::size_t n = model.weights.size();
  Writer w(12 + ((3 * n + 1) * sizeof(float)));
  w.bytes(kLinearMagic);
  w.u32(kFormatVersion);
  w.u32(u32_count(n));
  w.floats(model.mean);
  w.floats(model.scale);
  w.floats(model.weights);
  w.f32(model.bias);
  return w.take();
}

std::vector<std::uint8_t> encode_centroid_model(const CentroidModel& model) {
  if (auto e = check_centroid(model); !e.empty()) throw std::invalid_argument("centroid model: " + e);
  const std::size_t n = model.mean.size();
  Writer w(16 + ((2 * n + model.centroids.size()) * sizeof(float)));
  w.bytes(kCentroidMagic);
  w.u32(kFormatVersion);
  w.u32(u32_count(n));
  w.u32(u32_count(model.k));
  w.floats(model.mean);
  w.floats(model.scale);
  w.floats(model.centroids);
  return w.take();
}

std::optional<LinearModel> decode_linear_model(std::span<const std::uint8_t> bytes, std::string& error) {
  Reader r(bytes);
  if (!decode_header(r, kLinearMagic, "linear model", error)) return std::nullopt;
  std::uint32_t n = 0;
  if (!r.u32(n)) {
    error = "linear model payload truncated in its header";
    return std::nullopt;
  }
  if (n == 0 || n > (kMaxPayloadFloats - 1) / 3) {
    error = fmt::format("linear model payload: feature count {} outside 1..{}", n, (kMaxPayloadFloats - 1) / 3);
    return std::nullopt;
  }
  // The exact length is known from the count: check it before allocating anything.
  const std::size_t expected = (3 * static_cast<std::size_t>(n) + 1) * sizeof(float);
  if (r.remaining() != expected) {
    error = fmt::format("linear model payload: {} bytes after the header, expected {} for {} features", r.remaining(),
                        expected, n);
    return std::nullopt;
  }
  LinearModel m;
  if (!r.floats(m.mean, n) || !r.floats(m.scale, n) || !r.floats(m.weights, n) || !r.f32(m.bias)) {
    error = "linear model payload truncated";
    return std::nullopt;
  }
  if (auto e = check_linear(m); !e.empty()) {
    error = "linear model payload: " + e;
    return std::nullopt;
  }
  return m;
}

std::optional<CentroidModel> decode_centroid_model(std::span<const std::uint8_t> bytes, std::string& error) {
  Reader r(bytes);
  if (!decode_header(r, kCentroidMagic, "centroid model", error)) return std::nullopt;
  std::uint32_t n = 0;
  std::uint32_t k = 0;
  if (!r.u32(n) || !r.u32(k)) {
    error = "centroid model payload truncated in its header";
    return std::nullopt;
  }
  const std::uint64_t floats = static_cast<std::uint64_t>(n) * (2 + static_cast<std::uint64_t>(k));
  if (n == 0 || k == 0 || floats > kMaxPayloadFloats) {
    error = fmt::format(
        "centroid model payload: {} centroids x {} features outside the limits (both >= 1, at most {} "
        "floats)",
        k, n, kMaxPayloadFloats);
    return std::nullopt;
  }
  const std::size_t expected = static_cast<std::size_t>(floats) * sizeof(float);
  if (r.remaining() != expected) {
    error = fmt::format("centroid model payload: {} bytes after the header, expected {} for {} x {}", r.remaining(),
                        expected, k, n);
    return std::nullopt;
  }
  CentroidModel m;
  m.k = k;
  if (!r.floats(m.mean, n) || !r.floats(m.scale, n) || !r.floats(m.centroids, static_cast<std::size_t>(k) * n)) {
    error = "centroid model payload truncated";
    return std::nullopt;
  }
  if (auto e = check_centroid(m); !e.empty()) {
    error = "centroid model payload: " + e;
    return std::nullopt;
  }
  return m;
}

float predict_logistic(const LinearModel& model, std::span<const float> x) {
  const double z = linear_score(model, x);
  // Both branches keep exp() from overflowing for large |z|.
  const double p = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
  return static_cast<float>(p);
}

float predict_linear(const LinearModel& model, std::span<const float> x) {
  return static_cast<float>(linear_score(model, x));
}

std::size_t nearest_centroid(const CentroidModel& model, std::span<const float> x) {
  const std::size_t n = model.mean.size();
  check_input(n, x.size());
  std::vector<double> z(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = (static_cast<double>(x[i]) - model.mean[i]) / model.scale[i];
  std::size_t best = 0;
  double best_d2 = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < model.k; ++c) {
    double d2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = z[i] - model.centroids[(c * n) + i];
      d2 += d * d;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      best = c;
    }
  }
  return best;
}

}  // namespace sensorgate::uplink
