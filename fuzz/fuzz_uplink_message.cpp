// The uplink's FlatBuffers decoders on one untrusted buffer: uplink::decode_uplink
// (UplinkMessage: WindowSummary, AnomalyEvent, ModelStatus, RawFrames), decode_ack and
// decode_gateway_command, each also on a copy of the bytes at an odd address (they copy
// such buffers to aligned memory). Invariants: a refusal says why; an accepted message
// carries at most one payload and satisfies every shape rule of docs/wire-format.md; it
// re-encodes with the project's encoder to bytes that decode and re-encode to the same
// bytes (a stable round trip); the odd-address copy decodes to the same result.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace {

namespace up = sensorgate::uplink;

int payloads(const up::DecodedUplink& m) {
  return static_cast<int>(m.window.has_value()) + static_cast<int>(m.event.has_value()) +
         static_cast<int>(m.model_status.has_value()) + static_cast<int>(m.raw_frames.has_value());
}

void check_window(const up::WindowSummaryRecord& w) {
  FUZZ_CHECK(!w.device_id.empty());
  FUZZ_CHECK(w.window_end_ns > w.window_start_ns);
  const std::size_t bins = w.histogram_edges.empty() ? 0 : w.histogram_edges.size() + 1;
  FUZZ_CHECK(w.histogram_counts.size() == w.channels.size() * bins);
  FUZZ_CHECK(w.band_powers.empty() || w.band_powers.size() == w.channels.size() * 5);
  FUZZ_CHECK(!std::isinf(w.anomaly_score));
  FUZZ_CHECK(w.label >= -1);
  FUZZ_CHECK(!std::isinf(w.prediction));
  FUZZ_CHECK(std::isnan(w.prequential_accuracy) || (w.prequential_accuracy >= 0 && w.prequential_accuracy <= 1));
}

/// The one record an accepted message carries, as the encoder takes it.
up::UplinkRecord record_of(const up::DecodedUplink& m) {
  if (m.window) return *m.window;
  if (m.event) return *m.event;
  if (m.raw_frames) return *m.raw_frames;
  return *m.model_status;
}

void check_uplink(std::span<const std::uint8_t> input) {
  std::string error;
  const auto message = up::decode_uplink(input, error);
  std::vector<std::uint8_t> shifted(input.size() + 1);
  if (!input.empty()) std::memcpy(shifted.data() + 1, input.data(), input.size());
  std::string shifted_error;
  const auto moved = up::decode_uplink(std::span(shifted).subspan(1), shifted_error);
  FUZZ_CHECK(message.has_value() == moved.has_value());
  if (!message) {
    FUZZ_CHECK(!error.empty());
    FUZZ_CHECK(error == shifted_error);
    return;
  }
  FUZZ_CHECK(!message->gateway_id.empty());
  FUZZ_CHECK(payloads(*message) <= 1);
  if (message->window) check_window(*message->window);
  if (message->event) {
    FUZZ_CHECK(!message->event->device_id.empty());
    FUZZ_CHECK(message->event->end_ns >= message->event->start_ns);
    FUZZ_CHECK(std::isfinite(message->event->peak_score));
  }
  if (message->raw_frames) {
    const auto& r = *message->raw_frames;
    FUZZ_CHECK(r.channels > 0 && !r.samples.empty() && r.samples.size() == r.frames() * r.channels);
    FUZZ_CHECK(std::isfinite(r.sample_rate_hz) && r.sample_rate_hz > 0);
  }
  if (payloads(*message) == 0) return;  // a payload type this decoder does not know: nothing to re-encode

  const auto first =
      up::encode_uplink_record(message->gateway_id, message->sequence, message->sent_at_ns, record_of(*message));
  std::string again_error;
  const auto again = up::decode_uplink(first, again_error);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->gateway_id == message->gateway_id && again->sequence == message->sequence &&
             again->sent_at_ns == message->sent_at_ns && payloads(*again) == 1);
  const auto second =
      up::encode_uplink_record(again->gateway_id, again->sequence, again->sent_at_ns, record_of(*again));
  FUZZ_CHECK(first == second);
  const auto moved_bytes =
      up::encode_uplink_record(moved->gateway_id, moved->sequence, moved->sent_at_ns, record_of(*moved));
  FUZZ_CHECK(first == moved_bytes);
}

void check_ack(std::span<const std::uint8_t> input) {
  std::string error;
  const auto ack = up::decode_ack(input, error);
  if (!ack) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  const auto encoded = up::encode_ack(ack->gateway_id, ack->sequences);
  std::string again_error;
  const auto again = up::decode_ack(encoded, again_error);
  FUZZ_CHECK(again && again->gateway_id == ack->gateway_id && again->sequences == ack->sequences);
}

void check_command(std::span<const std::uint8_t> input) {
  std::string error;
  const auto command = up::decode_gateway_command(input, error);
  if (!command) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  // Exactly one of a model and a rollback.
  FUZZ_CHECK(command->rollback == command->model.empty());
  FUZZ_CHECK(up::is_gateway_command(input));
  const auto encoded = up::encode_gateway_command(*command);
  std::string again_error;
  const auto again = up::decode_gateway_command(encoded, again_error);
  FUZZ_CHECK(again && again->rollback == command->rollback && again->model == command->model);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  check_uplink(input);
  check_ack(input);
  check_command(input);
  return 0;
}
