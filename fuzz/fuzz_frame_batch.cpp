// FrameBatchDecoder::decode: the FlatBuffers verifier and the semantic checks of an ingest
// payload (MQTT message or serial frame). Invariants: a rejection bumps exactly its own
// counter; an accepted batch has 1-256 channels, a whole number of frames, finite samples,
// a rate in (0, 1e6] and a valid device id, and views inside the input; re-encoding it with
// uplink::encode_frame_batch decodes to the same batch. (The decoder expects an aligned
// buffer, as its callers provide: MQTT ingest copies through AlignedView, serial frames
// start a heap buffer. libFuzzer's input is heap memory too.)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_support.hpp"
#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace {

using sensorgate::DecodedBatch;
using sensorgate::DecodeError;
using sensorgate::FrameBatchDecoder;

bool same_batch(const DecodedBatch& a, const DecodedBatch& b) {
  return a.device_id == b.device_id && a.first_seq == b.first_seq && a.first_time_ns == b.first_time_ns &&
         a.sample_rate_hz == b.sample_rate_hz && a.channels == b.channels && a.samples.size() == b.samples.size() &&
         std::memcmp(a.samples.data(), b.samples.data(), a.samples.size_bytes()) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FrameBatchDecoder decoder;
  const std::span<const std::uint8_t> input(data, size);
  DecodedBatch batch;
  const DecodeError error = decoder.decode(input, batch);
  if (error != DecodeError::kNone) {
    FUZZ_CHECK(decoder.rejected(error) == 1);
    FUZZ_CHECK(decoder.rejected_total() == 1);
    FUZZ_CHECK(sensorgate::to_string(error) != "unknown");
  } else {
    FUZZ_CHECK(decoder.rejected_total() == 0);
    FUZZ_CHECK(batch.channels >= 1 && batch.channels <= 256);
    FUZZ_CHECK(!batch.samples.empty());
    FUZZ_CHECK(batch.samples.size() == static_cast<std::size_t>(batch.frames()) * batch.channels);
    FUZZ_CHECK(std::isfinite(batch.sample_rate_hz) && batch.sample_rate_hz > 0 && batch.sample_rate_hz <= 1e6);
    FUZZ_CHECK(std::all_of(batch.samples.begin(), batch.samples.end(), [](float x) { return std::isfinite(x); }));
    FUZZ_CHECK(!batch.device_id.empty() && batch.device_id.size() <= 64);
    // Views point into the input buffer, nowhere else.
    const auto* begin = reinterpret_cast<const std::uint8_t*>(batch.samples.data());
    FUZZ_CHECK(begin >= data && begin + batch.samples.size_bytes() <= data + size);
    const auto* id = reinterpret_cast<const std::uint8_t*>(batch.device_id.data());
    FUZZ_CHECK(id >= data && id + batch.device_id.size() <= data + size);

    // Round trip through the project's encoder.
    const auto encoded =
        sensorgate::uplink::encode_frame_batch(std::string(batch.device_id), batch.first_seq, batch.first_time_ns,
                                               batch.sample_rate_hz, batch.channels, batch.samples);
    DecodedBatch again;
    FUZZ_CHECK(decoder.decode(encoded, again) == DecodeError::kNone);
    FUZZ_CHECK(same_batch(batch, again));
  }

  return 0;
}
