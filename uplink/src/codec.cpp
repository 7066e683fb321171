#include "sensorgate/uplink/codec.hpp"

#include <cmath>
#include <cstdint>
#include <variant>

#include "sensorgate/common/aligned_view.hpp"
#include "sensorgate/wire/ack_generated.h"
#include "sensorgate/wire/control_generated.h"
#include "sensorgate/wire/frame_batch_generated.h"
#include "sensorgate/wire/uplink_generated.h"

namespace sensorgate::uplink {
namespace {

constexpr std::size_t kBandCount = 5;  // delta, theta, alpha, beta, gamma

/// FlatBuffers' verifier (2.0) checks that a vector's length field is aligned, not that its
/// elements are aligned for their type. A builder always aligns them; in a corrupt or
/// crafted buffer a vector of 8-byte elements can sit 4 bytes off, and reading it would be
/// a misaligned (undefined) access. The decoders refuse such vectors. An empty vector has no
/// element to read, and builders do not align those. (The buffer itself is aligned by
/// AlignedView, so an address's alignment is its offset's.)
template <typename T>
bool elements_aligned(const flatbuffers::Vector<T>* vector, std::size_t alignment) {
  return vector->size() == 0 || reinterpret_cast<std::uintptr_t>(vector->Data()) % alignment == 0;
}

}  // namespace

std::vector<std::uint8_t> encode_frame_batch(const std::string& device_id, std::uint64_t first_seq,
                                             std::int64_t first_time_ns, double sample_rate_hz, std::uint16_t channels,
                                             std::span<const float> samples) {
  flatbuffers::FlatBufferBuilder fbb(128 + samples.size() * sizeof(float));
  // Children are created in statements of their own: the order of function arguments is
  // unspecified, and a fixed order gives the same bytes on every platform.
  auto vector = fbb.CreateVector(samples.data(), samples.size());
  auto id = fbb.CreateString(device_id);
  auto batch = wire::CreateFrameBatch(fbb, id, first_seq, first_time_ns, sample_rate_hz, channels, vector);
  wire::FinishFrameBatchBuffer(fbb, batch);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> encode_window_summary(const std::string& gateway_id, std::uint64_t sequence,
                                                std::int64_t sent_at_ns, const WindowSummaryRecord& summary) {
  flatbuffers::FlatBufferBuilder fbb(256 + summary.channels.size() * sizeof(wire::ChannelStats));
  std::vector<wire::ChannelStats> stats;
  stats.reserve(summary.channels.size());
  for (const auto& c : summary.channels) {
    stats.emplace_back(c.channel, c.count, c.min, c.max, c.mean, c.variance);
  }
  auto channels = fbb.CreateVectorOfStructs(stats);
  auto edges = fbb.CreateVector(summary.histogram_edges);
  auto counts = fbb.CreateVector(summary.histogram_counts);
  auto bands = fbb.CreateVector(summary.band_powers);
  auto device = fbb.CreateString(summary.device_id);
  auto window = wire::CreateWindowSummary(fbb, device, summary.window_start_ns, summary.window_end_ns, channels,
                                          summary.revision, edges, counts, bands, summary.anomaly_score, summary.label,
                                          summary.prediction, summary.model_version, summary.prequential_accuracy);
  auto gateway = fbb.CreateString(gateway_id);
  auto message =
      wire::CreateUplinkMessage(fbb, gateway, sequence, sent_at_ns, wire::Payload::WindowSummary, window.Union());
  wire::FinishUplinkMessageBuffer(fbb, message);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> encode_anomaly_event(const std::string& gateway_id, std::uint64_t sequence,
                                               std::int64_t sent_at_ns, const AnomalyEventRecord& event) {
  flatbuffers::FlatBufferBuilder fbb(256 + event.channels.size() * sizeof(std::uint16_t));
  auto channels = fbb.CreateVector(event.channels);
  auto device = fbb.CreateString(event.device_id);
  auto anomaly = wire::CreateAnomalyEvent(fbb, device, event.start_ns, event.end_ns, event.peak_score, channels,
                                          event.peak_window_start_ns, event.windows, event.ongoing);
  auto gateway = fbb.CreateString(gateway_id);
  auto message =
      wire::CreateUplinkMessage(fbb, gateway, sequence, sent_at_ns, wire::Payload::AnomalyEvent, anomaly.Union());
  wire::FinishUplinkMessageBuffer(fbb, message);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> encode_model_status(const std::string& gateway_id, std::uint64_t sequence,
                                              std::int64_t sent_at_ns, const ModelStatusRecord& status) {
  flatbuffers::FlatBufferBuilder fbb(128 + status.detail.size());
  auto detail = fbb.CreateString(status.detail);
  auto payload = wire::CreateModelStatus(fbb, status.version, status.accepted, status.active_version, detail);
  auto gateway = fbb.CreateString(gateway_id);
  auto message =
      wire::CreateUplinkMessage(fbb, gateway, sequence, sent_at_ns, wire::Payload::ModelStatus, payload.Union());
  wire::FinishUplinkMessageBuffer(fbb, message);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> encode_raw_frames(const std::string& gateway_id, std::uint64_t sequence,
                                            std::int64_t sent_at_ns, const RawFramesRecord& frames) {
  flatbuffers::FlatBufferBuilder fbb(128 + frames.samples.size() * sizeof(float));
  auto samples = fbb.CreateVector(frames.samples);
  auto device = fbb.CreateString(frames.device_id);
  auto payload = wire::CreateRawFrames(fbb, device, frames.first_seq, frames.first_time_ns, frames.sample_rate_hz,
                                       frames.channels, samples);
  auto gateway = fbb.CreateString(gateway_id);
  auto message =
      wire::CreateUplinkMessage(fbb, gateway, sequence, sent_at_ns, wire::Payload::RawFrames, payload.Union());
  wire::FinishUplinkMessageBuffer(fbb, message);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> encode_uplink_record(const std::string& gateway_id, std::uint64_t sequence,
                                               std::int64_t sent_at_ns, const UplinkRecord& record) {
  if (const auto* w = std::get_if<WindowSummaryRecord>(&record)) {
    return encode_window_summary(gateway_id, sequence, sent_at_ns, *w);
  }
  if (const auto* e = std::get_if<AnomalyEventRecord>(&record)) {
    return encode_anomaly_event(gateway_id, sequence, sent_at_ns, *e);
  }
  if (const auto* r = std::get_if<RawFramesRecord>(&record))
    return encode_raw_frames(gateway_id, sequence, sent_at_ns, *r);
  return encode_model_status(gateway_id, sequence, sent_at_ns, std::get<ModelStatusRecord>(record));
}

std::vector<std::uint8_t> encode_gateway_command(const GatewayCommandRecord& command) {
  flatbuffers::FlatBufferBuilder fbb(64 + command.model.size());
  auto model = fbb.CreateVector(command.model);
  auto cmd = wire::CreateGatewayCommand(fbb, model, command.rollback);
  wire::FinishGatewayCommandBuffer(fbb, cmd);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::optional<GatewayCommandRecord> decode_gateway_command(std::span<const std::uint8_t> buffer, std::string& error) {
  const AlignedView aligned(buffer);
  flatbuffers::Verifier verifier(aligned.data(), aligned.size());
  if (!wire::VerifyGatewayCommandBuffer(verifier)) {
    error = "not a valid GatewayCommand (FlatBuffers verifier failed)";
    return std::nullopt;
  }
  const auto* cmd = wire::GetGatewayCommand(aligned.data());
  GatewayCommandRecord out;
  out.rollback = cmd->rollback();
  if (const auto* model = cmd->model()) out.model.assign(model->begin(), model->end());
  if (out.rollback == !out.model.empty()) {
    error = "GatewayCommand must carry either a model or a rollback";
    return std::nullopt;
  }
  return out;
}

bool is_gateway_command(std::span<const std::uint8_t> buffer) {
  return buffer.size() >= 8 && flatbuffers::BufferHasIdentifier(buffer.data(), wire::GatewayCommandIdentifier());
}

std::vector<std::uint8_t> encode_ack(const std::string& gateway_id, std::span<const std::uint64_t> sequences) {
  flatbuffers::FlatBufferBuilder fbb(64 + sequences.size() * 8);
  auto seqs = fbb.CreateVector(sequences.data(), sequences.size());
  auto gateway = fbb.CreateString(gateway_id);
  auto ack = wire::CreateAck(fbb, gateway, seqs);
  wire::FinishAckBuffer(fbb, ack);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::optional<DecodedUplink> decode_uplink(std::span<const std::uint8_t> buffer, std::string& error) {
  const AlignedView aligned(buffer);
  flatbuffers::Verifier verifier(aligned.data(), aligned.size());
  if (!wire::VerifyUplinkMessageBuffer(verifier)) {
    error = "not a valid UplinkMessage (FlatBuffers verifier failed)";
    return std::nullopt;
  }
  const auto* msg = wire::GetUplinkMessage(aligned.data());
  DecodedUplink out;
  out.gateway_id = msg->gateway_id()->str();
  out.sequence = msg->sequence();
  out.sent_at_ns = msg->sent_at_ns();
  if (out.gateway_id.empty()) {
    error = "UplinkMessage with an empty gateway_id";
    return std::nullopt;
  }
  if (const auto* w = msg->payload_as_WindowSummary()) {
    WindowSummaryRecord record;
    record.device_id = w->device_id()->str();
    record.window_start_ns = w->window_start_ns();
    record.window_end_ns = w->window_end_ns();
    if (record.device_id.empty() || record.window_end_ns <= record.window_start_ns) {
      error = "WindowSummary with an empty device_id or an empty time range";
      return std::nullopt;
    }
    if (!elements_aligned(w->channels(), alignof(wire::ChannelStats))) {
      error = "WindowSummary whose channel stats are misaligned (not written by a FlatBuffers builder)";
      return std::nullopt;
    }
    record.revision = w->revision();
    record.channels.reserve(w->channels()->size());
    for (const auto* c : *w->channels()) {
      record.channels.push_back({c->channel(), c->count(), c->min(), c->max(), c->mean(), c->variance()});
    }
    if (const auto* edges = w->histogram_edges()) record.histogram_edges.assign(edges->begin(), edges->end());
    if (const auto* counts = w->histogram_counts()) record.histogram_counts.assign(counts->begin(), counts->end());
    if (const auto* bands = w->band_powers()) record.band_powers.assign(bands->begin(), bands->end());
    // Shapes must agree with the channel count, or the collector would store nonsense.
    const std::size_t n = record.channels.size();
    const std::size_t bins = record.histogram_edges.empty() ? 0 : record.histogram_edges.size() + 1;
    if (record.histogram_counts.size() != n * bins ||
        (!record.band_powers.empty() && record.band_powers.size() != n * kBandCount)) {
      error = "WindowSummary whose histogram or band power arrays do not match its channel count";
      return std::nullopt;
    }
    record.anomaly_score = w->anomaly_score();
    if (std::isinf(record.anomaly_score)) {
      error = "WindowSummary with an infinite anomaly_score";
      return std::nullopt;
    }
    record.label = w->label();
    record.prediction = w->prediction();
    record.model_version = w->model_version();
    record.prequential_accuracy = w->prequential_accuracy();
    if (record.label < -1 || std::isinf(record.prediction) ||
        (!std::isnan(record.prequential_accuracy) &&
         (record.prequential_accuracy < 0 || record.prequential_accuracy > 1))) {
      error = "WindowSummary with a label below -1, an infinite prediction or an accuracy outside [0, 1]";
      return std::nullopt;
    }
    out.window = std::move(record);
  } else if (const auto* e = msg->payload_as_AnomalyEvent()) {
    AnomalyEventRecord record;
    record.device_id = e->device_id()->str();
    record.start_ns = e->start_ns();
    record.end_ns = e->end_ns();
    record.peak_score = e->peak_score();
    if (record.device_id.empty() || record.end_ns < record.start_ns || !std::isfinite(record.peak_score)) {
      error = "AnomalyEvent with an empty device_id, an end before its start or a non-finite peak_score";
      return std::nullopt;
    }
    record.peak_window_start_ns = e->peak_window_start_ns();
    record.windows = e->windows();
    if (const auto* channels = e->channels()) record.channels.assign(channels->begin(), channels->end());
    record.ongoing = e->ongoing();
    out.event = std::move(record);
  } else if (const auto* m = msg->payload_as_ModelStatus()) {
    ModelStatusRecord record;
    record.version = m->version();
    record.accepted = m->accepted();
    record.active_version = m->active_version();
    if (const auto* detail = m->detail()) record.detail = detail->str();
    out.model_status = std::move(record);
  } else if (const auto* r = msg->payload_as_RawFrames()) {
    RawFramesRecord record;
    record.device_id = r->device_id()->str();
    record.first_seq = r->first_seq();
    record.first_time_ns = r->first_time_ns();
    record.sample_rate_hz = r->sample_rate_hz();
    record.channels = r->channel_count();
    record.samples.assign(r->samples()->begin(), r->samples()->end());
    if (record.device_id.empty() || record.channels == 0 || record.samples.empty() ||
        record.samples.size() % record.channels != 0 || !std::isfinite(record.sample_rate_hz) ||
        record.sample_rate_hz <= 0) {
      error = "RawFrames with an empty device_id, no frames, a partial frame or a bad sample rate";
      return std::nullopt;
    }
    out.raw_frames = std::move(record);
  }
  return out;
}

std::optional<DecodedAck> decode_ack(std::span<const std::uint8_t> buffer, std::string& error) {
  const AlignedView aligned(buffer);
  flatbuffers::Verifier verifier(aligned.data(), aligned.size());
  if (!wire::VerifyAckBuffer(verifier)) {
    error = "not a valid Ack (FlatBuffers verifier failed)";
    return std::nullopt;
  }
  const auto* ack = wire::GetAck(aligned.data());
  if (!elements_aligned(ack->sequences(), alignof(std::uint64_t))) {
    error = "Ack whose sequences are misaligned (not written by a FlatBuffers builder)";
    return std::nullopt;
  }
  return DecodedAck{ack->gateway_id()->str(), {ack->sequences()->begin(), ack->sequences()->end()}};
}

}  // namespace sensorgate::uplink
