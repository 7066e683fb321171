// SerialIngest's decoding path (feed/flush, no port) into a real IngestSink and registry,
// the registry shared by several sources, and opening a port that is not there.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sensorgate/common/openbci_packet.hpp"
#include "sensorgate/common/serial_framing.hpp"
#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/gateway/serial_ingest.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace sensorgate {
namespace {

/// Every chunk of device 0's ring, drained in order.
std::vector<FrameChunk> drain(DeviceRegistry& registry) {
  std::vector<FrameChunk> chunks;
  if (registry.size() == 0) return chunks;
  auto& ring = registry.at(0).ring;
  for (auto span = ring.acquire_read(); !span.empty(); span = ring.acquire_read()) {
    chunks.insert(chunks.end(), span.begin(), span.end());
    ring.release_read(span.size());
  }
  return chunks;
}

struct Fixture {
  DeviceRegistry registry{1024, 16};
  std::atomic<bool> stopping{false};
  IngestSink sink{registry, FullPolicy::kBlock, stopping, "serial:test"};
};

SerialIngestOptions openbci_options(SerialFormat format) {
  SerialIngestOptions o;
  o.port = "/dev/null-test";
  o.format = format;
  o.device_id = "board-1";
  o.start_time_ns = 1'000'000'000;
  return o;
}

/// Frame f, channel c: a value spanning most of the 24-bit range, not on the count grid.
float test_value(std::size_t f, std::size_t c) {
  return static_cast<float>(std::sin(0.01 * static_cast<double>(f * 16 + c)) * 150000.0 + 0.3);
}

TEST(SerialIngest, Feed_CytonPacketsAcrossCounterWrap_ContiguousSequencesAndValuesWithinHalfACount) {
  Fixture fx;
  SerialIngest ingest(openbci_options(SerialFormat::kOpenBciCyton), fx.sink);
  OpenBciEncoder encoder(false);
  std::vector<std::uint8_t> bytes;
  constexpr std::size_t kFrames = 300;  // the 8-bit counter wraps once
  std::vector<float> frame(8);
  for (std::size_t f = 0; f < kFrames; ++f) {
    for (std::size_t c = 0; c < 8; ++c) frame[c] = test_value(f, c);
    encoder.encode(frame, bytes);
  }
  // Odd chunk sizes: chunking must not change the result.
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    ingest.feed(std::span(bytes).subspan(i, std::min<std::size_t>(7, bytes.size() - i)));
  }
  ingest.flush();

  ASSERT_EQ(fx.registry.size(), 1U);
  const auto& device = fx.registry.at(0);
  EXPECT_EQ(device.id, "board-1");
  EXPECT_EQ(device.source, "serial:test");
  EXPECT_EQ(device.channels, 8);
  EXPECT_EQ(device.sample_rate_hz, 250.0);
  const double half_count = openbci_uv_per_count(kOpenBciDefaultGain) / 2;
  std::uint64_t next_seq = 0;
  for (const auto& chunk : drain(fx.registry)) {
    ASSERT_EQ(chunk.first_seq, next_seq);
    EXPECT_EQ(chunk.first_time_ns, 1'000'000'000 + static_cast<std::int64_t>(next_seq) * 4'000'000);
    for (std::size_t f = 0; f < chunk.frames; ++f) {
      for (std::size_t c = 0; c < 8; ++c) {
        ASSERT_NEAR(chunk.samples[f * 8 + c], test_value(next_seq + f, c), half_count + 0.01);
      }
    }
    next_seq += chunk.frames;
  }
  EXPECT_EQ(next_seq, kFrames);
  const auto stats = ingest.stats();
  EXPECT_EQ(stats.packets, kFrames);
  EXPECT_EQ(stats.frames, kFrames);
  EXPECT_EQ(stats.lost_packets, 0U);
  EXPECT_EQ(stats.resyncs, 0U);
  EXPECT_EQ(fx.sink.counters().frames.load(), kFrames);
}

TEST(SerialIngest, Feed_CytonWithSkippedCountersAndGarbage_GapsBecomeSequenceGapsAndAreCounted) {
  Fixture fx;
  SerialIngest ingest(openbci_options(SerialFormat::kOpenBciCyton), fx.sink);
  OpenBciEncoder encoder(false);
  std::vector<std::uint8_t> bytes;
  const std::vector<float> frame(8, 10.0F);
  for (std::uint64_t f = 0; f < 100; ++f) {
    if (f >= 40 && f < 45) continue;  // 5 packets lost on the line
    encoder.set_next_frame(f);
    if (f == 70) bytes.insert(bytes.end(), {0x01, 0x02, 0xC0, 0x33});  // garbage without a header byte
    encoder.encode(frame, bytes);
  }
  ingest.feed(bytes);
  ingest.flush();

  std::vector<std::uint64_t> seqs;
  for (const auto& chunk : drain(fx.registry)) {
    for (std::uint64_t f = 0; f < chunk.frames; ++f) seqs.push_back(chunk.first_seq + f);
  }
  ASSERT_EQ(seqs.size(), 95U);
  EXPECT_EQ(seqs[39], 39U);
  EXPECT_EQ(seqs[40], 45U) << "the gap is visible to the sequence tracker";
  const auto stats = ingest.stats();
  EXPECT_EQ(stats.lost_packets, 5U);
  EXPECT_EQ(stats.resyncs, 1U);
  EXPECT_EQ(stats.bytes_discarded, 4U);
}

TEST(SerialIngest, Feed_DaisyPackets_SixteenChannelFramesAt125Hz) {
  Fixture fx;
  SerialIngest ingest(openbci_options(SerialFormat::kOpenBciDaisy), fx.sink);
  OpenBciEncoder encoder(true);
  std::vector<std::uint8_t> bytes;
  std::vector<float> frame(16);
  for (std::size_t f = 0; f < 200; ++f) {
    for (std::size_t c = 0; c < 16; ++c) frame[c] = test_value(f, c);
    encoder.encode(frame, bytes);
  }
  ingest.feed(bytes);
  ingest.flush();
  ASSERT_EQ(fx.registry.size(), 1U);
  EXPECT_EQ(fx.registry.at(0).channels, 16);
  EXPECT_EQ(fx.registry.at(0).sample_rate_hz, 125.0);
  const double half_count = openbci_uv_per_count(kOpenBciDefaultGain) / 2;
  std::uint64_t next_seq = 0;
  for (const auto& chunk : drain(fx.registry)) {
    ASSERT_EQ(chunk.first_seq, next_seq);
    for (std::size_t f = 0; f < chunk.frames; ++f) {
      for (std::size_t c = 0; c < 16; ++c) {
        ASSERT_NEAR(chunk.samples[f * 16 + c], test_value(next_seq + f, c), half_count + 0.01) << "channel " << c;
      }
    }
    next_seq += chunk.frames;
  }
  EXPECT_EQ(next_seq, 200U);
  EXPECT_EQ(ingest.stats().packets, 400U);
  EXPECT_EQ(ingest.stats().unpaired_daisy, 0U);
}

TEST(SerialIngest, Feed_FramedBatchesWithGarbageAndABadPayload_EveryGoodBatchDeliveredAndErrorsCounted) {
  Fixture fx;
  SerialIngestOptions options;
  options.port = "/dev/null-test";
  SerialIngest ingest(options, fx.sink);
  std::vector<std::uint8_t> bytes{kSerialFrameDelimiter};
  const std::vector<float> samples(std::size_t{32} * 4, 1.5F);
  for (std::uint64_t b = 0; b < 10; ++b) {
    const auto payload = uplink::encode_frame_batch("dev-a", b * 32, 0, 256.0, 4, samples);
    if (b == 3) bytes.insert(bytes.end(), {0x17, 0x99, 0x42, kSerialFrameDelimiter});  // garbage, own delimiter
    if (b == 6) {
      const std::vector<std::uint8_t> not_a_batch{1, 2, 3, 4, 5, 6, 7, 8};
      encode_serial_frame(not_a_batch, bytes);  // intact frame, invalid FrameBatch
    }
    encode_serial_frame(payload, bytes);
  }
  ingest.feed(bytes);

  std::uint64_t frames = 0;
  for (const auto& chunk : drain(fx.registry)) {
    EXPECT_EQ(chunk.first_seq, frames);
    frames += chunk.frames;
  }
  EXPECT_EQ(frames, 320U);
  const auto stats = ingest.stats();
  EXPECT_EQ(stats.frames, 11U);
  EXPECT_EQ(stats.bad_payloads, 1U);
  EXPECT_EQ(stats.resyncs, 1U);
  EXPECT_EQ(stats.cobs_errors + stats.crc_errors, 1U);
  EXPECT_EQ(stats.bytes_discarded, 3U);
}

TEST(SerialIngest, Constructor_EmptyPort_Throws) {
  Fixture fx;
  EXPECT_THROW(SerialIngest(SerialIngestOptions{}, fx.sink), std::invalid_argument);
}

TEST(SerialIngest, Start_MissingDevice_ThrowsNamingThePort) {
  Fixture fx;
  SerialIngestOptions options;
  options.port = "/nonexistent/ttyUSB9";
  SerialIngest ingest(options, fx.sink);
  try {
    ingest.start();
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ttyUSB9"), std::string::npos) << e.what();
  }
}

TEST(SerialFormat, ParseSerialFormat_EveryNameRoundTripsAndUnknownIsRejected) {
  for (auto format : {SerialFormat::kFramed, SerialFormat::kOpenBciCyton, SerialFormat::kOpenBciDaisy}) {
    EXPECT_EQ(parse_serial_format(to_string(format)), format);
  }
  EXPECT_FALSE(parse_serial_format("openbci").has_value());
}

TEST(DeviceRegistry, Add_SameIdFromAnotherSource_RefusedSoTheRingKeepsOneProducer) {
  DeviceRegistry registry(16, 8);
  const auto first = registry.add("dev", 8, 250.0, "mqtt");
  ASSERT_EQ(first.status, DeviceRegistry::AddStatus::kAdded);
  EXPECT_EQ(registry.add("dev", 8, 250.0, "mqtt").status, DeviceRegistry::AddStatus::kExisting);
  const auto second = registry.add("dev", 8, 250.0, "serial:/dev/ttyUSB0");
  EXPECT_EQ(second.status, DeviceRegistry::AddStatus::kOtherSource);
  EXPECT_EQ(second.device, nullptr);
  EXPECT_EQ(registry.size(), 1U);
}

TEST(DeviceRegistry, Add_FromFourThreadsAtOnce_EveryIdRegisteredOnceUpToTheLimit) {
  DeviceRegistry registry(2, 64);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry, t] {
      for (int i = 0; i < 40; ++i) {
        // Ids 0..19 are shared by all threads (only the first source gets each), 20..39 per thread.
        const std::string id =
            i < 20 ? "shared-" + std::to_string(i) : "t" + std::to_string(t) + "-" + std::to_string(i);
        (void)registry.add(id, 4, 100.0, "source-" + std::to_string(t));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry.size(), 64U) << "20 shared + 80 own ids, capped at max_devices";
  std::set<std::string> ids;
  for (std::size_t i = 0; i < registry.size(); ++i) {
    EXPECT_EQ(registry.at(i).index, i);
    ids.insert(registry.at(i).id);
  }
  EXPECT_EQ(ids.size(), registry.size()) << "no id registered twice";
}

TEST(IngestSink, Push_DeviceOwnedByAnotherSink_DroppedAndCounted) {
  DeviceRegistry registry(16, 8);
  std::atomic<bool> stopping{false};
  IngestSink mqtt(registry, FullPolicy::kBlock, stopping, "mqtt");
  IngestSink serial(registry, FullPolicy::kBlock, stopping, "serial:/dev/ttyUSB0");
  const std::vector<float> samples(8, 1.0F);
  DecodedBatch batch{"dev", 0, 0, 250.0, 8, samples};
  mqtt.push(batch);
  serial.push(batch);
  serial.push(batch);
  EXPECT_EQ(mqtt.counters().frames.load(), 1U);
  EXPECT_EQ(serial.counters().frames.load(), 0U);
  EXPECT_EQ(serial.counters().rejected_other_source.load(), 2U);
  EXPECT_EQ(registry.size(), 1U);
}

}  // namespace
}  // namespace sensorgate
