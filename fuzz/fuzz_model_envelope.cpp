// Signed model envelopes and model payloads, with a fixed verify key (fuzz_keys.hpp). The
// first byte picks what the rest is:
//   0: an envelope for uplink::verify_signed_model and claimed_model_version; an accepted
//      one must name the version claimed_model_version reads, re-sign to an envelope that
//      verifies to the same record, and be refused under another feature spec;
//   1: a payload for decode_linear_model and decode_centroid_model; an accepted one must
//      re-encode to exactly the input (the format is canonical), and predict its bias at
//      x = mean (linear) or a centroid index below k;
//   2: the fields of a model, signed with the fixed key: the envelope must verify to the
//      same record, and after overwriting one byte of it either be refused or still
//      verify to that same record (no forgery).
// Nothing here may throw: the decoders and the verifier report errors as values.

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "sensorgate/uplink/model_envelope.hpp"
#include "sensorgate/uplink/model_payload.hpp"

namespace {

namespace up = sensorgate::uplink;

const up::SigningKeys& keys() {
  static const up::SigningKeys k = sensorgate::fuzz::fixed_signing_keys();
  return k;
}

bool same_model(const up::ModelRecord& a, const up::ModelRecord& b) {
  return a.kind == b.kind && a.version == b.version && a.feature_spec == b.feature_spec &&
         a.created_at_ns == b.created_at_ns && a.payload == b.payload;
}

void check_payload(std::span<const std::uint8_t> bytes) {
  std::string error;
  if (const auto linear = up::decode_linear_model(bytes, error)) {
    const std::size_t n = up::feature_count(*linear);
    FUZZ_CHECK(n >= 1 && linear->mean.size() == n && linear->scale.size() == n);
    FUZZ_CHECK(up::encode_linear_model(*linear) == std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    // At x = mean the standardised features are 0, so the output is the bias.
    FUZZ_CHECK(up::predict_linear(*linear, linear->mean) == linear->bias);
    const float p = up::predict_logistic(*linear, linear->mean);
    FUZZ_CHECK(p >= 0 && p <= 1);
  } else {
    FUZZ_CHECK(!error.empty());
  }
  error.clear();
  if (const auto centroids = up::decode_centroid_model(bytes, error)) {
    const std::size_t n = up::feature_count(*centroids);
    FUZZ_CHECK(n >= 1 && centroids->k >= 1 && centroids->centroids.size() == n * centroids->k);
    FUZZ_CHECK(up::encode_centroid_model(*centroids) == std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    FUZZ_CHECK(up::nearest_centroid(*centroids, centroids->mean) < centroids->k);
  } else {
    FUZZ_CHECK(!error.empty());
  }
}

void check_envelope(std::span<const std::uint8_t> bytes) {
  std::string error;
  const auto claimed = up::claimed_model_version(bytes);
  const auto model = up::verify_signed_model(bytes, keys().public_key, "", error);
  if (!model) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  FUZZ_CHECK(claimed && *claimed == model->version);
  const auto resigned = up::encode_signed_model(*model, keys().secret_key);
  std::string again_error;
  const auto again = up::verify_signed_model(resigned, keys().public_key, model->feature_spec, again_error);
  FUZZ_CHECK(again && same_model(*again, *model));
  std::string other_error;
  FUZZ_CHECK(!up::verify_signed_model(bytes, keys().public_key, model->feature_spec + "x", other_error));
  check_payload(model->payload);
}

void check_signed_fields(FuzzedDataProvider& in) {
  up::ModelRecord model;
  model.kind = static_cast<up::ModelKind>(in.ConsumeIntegralInRange<int>(0, 2));
  model.version = in.ConsumeIntegral<std::uint32_t>();
  model.created_at_ns = in.ConsumeIntegral<std::int64_t>();
  model.feature_spec = in.ConsumeRandomLengthString(256);
  const auto position = in.ConsumeIntegral<std::uint16_t>();
  const auto value = in.ConsumeIntegral<std::uint8_t>();
  model.payload = in.ConsumeRemainingBytes<std::uint8_t>();
  auto envelope = up::encode_signed_model(model, keys().secret_key);
  std::string error;
  const auto verified = up::verify_signed_model(envelope, keys().public_key, model.feature_spec, error);
  FUZZ_CHECK(verified && same_model(*verified, model));
  envelope[position % envelope.size()] = value;
  const auto tampered = up::verify_signed_model(envelope, keys().public_key, "", error);
  FUZZ_CHECK(!tampered || same_model(*tampered, model));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  (void)keys();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A copy: the envelope's readers expect an aligned buffer, as their callers give them
  // (the model bytes of a GatewayCommand are copied into a vector).
  const std::vector<std::uint8_t> rest(data + 1, data + size);
  switch (data[0] % 3) {
    case 0: check_envelope(rest); break;
    case 1: check_payload(rest); break;
    default: {
      FuzzedDataProvider in(rest.data(), rest.size());
      check_signed_fields(in);
      break;
    }
  }
  return 0;
}
