#pragma once
// Encoding and verified decoding of the uplink's FlatBuffers messages (schemas in
// uplink/schemas/). Decoders run the FlatBuffers verifier before reading anything and
// report why a buffer was refused; they never throw on bad input.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sensorgate/uplink/records.hpp"

namespace sensorgate::uplink {

/// FrameBatch (ingest format) of frame-major `samples`, `channels` per frame.
std::vector<std::uint8_t> encode_frame_batch(const std::string& device_id, std::uint64_t first_seq,
                                             std::int64_t first_time_ns, double sample_rate_hz, std::uint16_t channels,
                                             std::span<const float> samples);

/// UplinkMessage carrying a WindowSummary.
std::vector<std::uint8_t> encode_window_summary(const std::string& gateway_id, std::uint64_t sequence,
                                                std::int64_t sent_at_ns, const WindowSummaryRecord& summary);

/// UplinkMessage carrying an AnomalyEvent.
std::vector<std::uint8_t> encode_anomaly_event(const std::string& gateway_id, std::uint64_t sequence,
                                               std::int64_t sent_at_ns, const AnomalyEventRecord& event);

/// UplinkMessage carrying a ModelStatus.
std::vector<std::uint8_t> encode_model_status(const std::string& gateway_id, std::uint64_t sequence,
                                              std::int64_t sent_at_ns, const ModelStatusRecord& status);

/// UplinkMessage carrying RawFrames (capture mode).
std::vector<std::uint8_t> encode_raw_frames(const std::string& gateway_id, std::uint64_t sequence,
                                            std::int64_t sent_at_ns, const RawFramesRecord& frames);

/// UplinkMessage carrying whichever record `record` holds.
std::vector<std::uint8_t> encode_uplink_record(const std::string& gateway_id, std::uint64_t sequence,
                                               std::int64_t sent_at_ns, const UplinkRecord& record);

/// A collector-to-gateway command (control.fbs): push `model` (a signed envelope) or roll back.
struct GatewayCommandRecord {
  std::vector<std::uint8_t> model;
  bool rollback = false;
};

std::vector<std::uint8_t> encode_gateway_command(const GatewayCommandRecord& command);
/// Verifies and decodes a GatewayCommand (exactly one of model and rollback); on failure
/// returns nullopt and sets `error`.
std::optional<GatewayCommandRecord> decode_gateway_command(std::span<const std::uint8_t> buffer, std::string& error);
/// True when `buffer` carries the GatewayCommand file identifier ("SGCM"), i.e. it is a
/// command rather than an Ack.
bool is_gateway_command(std::span<const std::uint8_t> buffer);

/// Ack for `sequences` of `gateway_id`.
std::vector<std::uint8_t> encode_ack(const std::string& gateway_id, std::span<const std::uint64_t> sequences);

struct DecodedUplink {
  std::string gateway_id;
  std::uint64_t sequence = 0;
  std::int64_t sent_at_ns = 0;
  std::optional<WindowSummaryRecord> window;      ///< set when the payload is a WindowSummary
  std::optional<AnomalyEventRecord> event;        ///< set when the payload is an AnomalyEvent
  std::optional<ModelStatusRecord> model_status;  ///< set when the payload is a ModelStatus
  std::optional<RawFramesRecord> raw_frames;      ///< set when the payload is RawFrames
};

/// Verifies and decodes an UplinkMessage; on failure returns nullopt and sets `error`.
std::optional<DecodedUplink> decode_uplink(std::span<const std::uint8_t> buffer, std::string& error);

struct DecodedAck {
  std::string gateway_id;
  std::vector<std::uint64_t> sequences;
};

/// Verifies and decodes an Ack; on failure returns nullopt and sets `error`.
std::optional<DecodedAck> decode_ack(std::span<const std::uint8_t> buffer, std::string& error);

}  // namespace sensorgate::uplink
