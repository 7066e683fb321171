#include "sensorgate/gateway/frame_batch_decoder.hpp"

#include <algorithm>
#include <cmath>

#include "sensorgate/kernels/moments.hpp"
#include "sensorgate/wire/frame_batch_generated.h"

namespace sensorgate {

bool is_valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::ranges::all_of(id, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::string_view to_string(DecodeError error) {
  switch (error) {
    case DecodeError::kNone: return "ok";
    case DecodeError::kVerifierFailed: return "verifier_failed";
    case DecodeError::kBadDeviceId: return "bad_device_id";
    case DecodeError::kBadChannelCount: return "bad_channel_count";
    case DecodeError::kBadSampleCount: return "bad_sample_count";
    case DecodeError::kBadSampleRate: return "bad_sample_rate";
    case DecodeError::kNonFiniteSample: return "non_finite_sample";
    case DecodeError::kCount: break;
  }
  return "unknown";
}

DecodeError FrameBatchDecoder::reject(DecodeError error) {
  auto& counter = rejected_[static_cast<std::size_t>(error)];
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return error;
}

std::uint64_t FrameBatchDecoder::rejected_total() const {
  std::uint64_t total = 0;
  for (const auto& c : rejected_) total += c.load(std::memory_order_relaxed);
  return total;
}

DecodeError FrameBatchDecoder::decode(std::span<const std::uint8_t> buffer, DecodedBatch& out) {
  flatbuffers::Verifier verifier(buffer.data(), buffer.size());
  // VerifyFrameBatchBuffer also checks the "SGFB" identifier, so other message types fail here.
  if (!wire::VerifyFrameBatchBuffer(verifier)) {
    return reject(DecodeError::kVerifierFailed);
  }
  const auto* batch = wire::GetFrameBatch(buffer.data());
  const std::string_view id = batch->device_id()->string_view();
  if (!is_valid_id(id)) return reject(DecodeError::kBadDeviceId);
  const auto channels = batch->channel_count();
  if (channels == 0 || channels > kernels::kMaxChannels) return reject(DecodeError::kBadChannelCount);
  const auto* samples = batch->samples();
  if (samples->size() == 0 || samples->size() % channels != 0) return reject(DecodeError::kBadSampleCount);
  const double rate = batch->sample_rate_hz();
  if (!std::isfinite(rate) || rate <= 0.0 || rate > 1e6) return reject(DecodeError::kBadSampleRate);
  // One NaN would turn every statistic of its window into NaN: refuse the batch instead.
  if (!std::all_of(samples->begin(), samples->end(), [](float x) { return std::isfinite(x); })) {
    return reject(DecodeError::kNonFiniteSample);
  }

  out.device_id = id;
  out.first_seq = batch->first_seq();
  out.first_time_ns = batch->first_time_ns();
  out.sample_rate_hz = rate;
  out.channels = channels;
  out.samples = {samples->data(), samples->size()};
  return DecodeError::kNone;
}

}  // namespace sensorgate
