#include "sensorgate/gateway/serial_ingest.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>
#include <cmath>
#include <stdexcept>

#include "sensorgate/common/counter.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/common/serial_port.hpp"
#include "sensorgate/gateway/frame_chunk.hpp"

namespace sensorgate {

namespace asio = boost::asio;

struct SerialIngest::Io {
  asio::io_context context;
  asio::serial_port port{context};
  asio::steady_timer reopen_timer{context};
  asio::steady_timer flush_timer{context};
  std::array<std::uint8_t, 4096> buffer{};
};

std::string_view to_string(SerialFormat format) {
  switch (format) {
    case SerialFormat::kFramed: return "framed";
    case SerialFormat::kOpenBciCyton: return "openbci-cyton";
    case SerialFormat::kOpenBciDaisy: return "openbci-daisy";
  }
  return "?";
}

std::optional<SerialFormat> parse_serial_format(std::string_view name) {
  for (auto format : {SerialFormat::kFramed, SerialFormat::kOpenBciCyton, SerialFormat::kOpenBciDaisy}) {
    if (to_string(format) == name) return format;
  }
  return std::nullopt;
}

double openbci_frame_rate_hz(SerialFormat format) {
  // The Cyton samples at 250 Hz; with a Daisy the packets alternate between the two
  // boards, so each 16-channel frame takes two packets.
  return format == SerialFormat::kOpenBciDaisy ? 125.0 : 250.0;
}

SerialIngest::SerialIngest(SerialIngestOptions options, IngestSink& sink)
    : options_(std::move(options)), sink_(sink), io_(std::make_unique<Io>()), framer_(options_.max_payload) {
  if (options_.port.empty()) throw std::invalid_argument("serial: no port given");
  if (options_.baud == 0) throw std::invalid_argument("serial: baud rate must be positive");
  if (options_.format != SerialFormat::kFramed) {
    if (options_.device_id.empty()) throw std::invalid_argument("serial: an OpenBCI stream needs a device id");
    const bool daisy = options_.format == SerialFormat::kOpenBciDaisy;
    openbci_.emplace(daisy, options_.gain);  // throws for a bad gain
    channels_ = daisy ? 16 : 8;
    rate_hz_ = openbci_frame_rate_hz(options_.format);
    frames_per_batch_ = FrameChunk::kCapacity / channels_;
    pending_.reserve(static_cast<std::size_t>(frames_per_batch_) * channels_);
  }
}

SerialIngest::~SerialIngest() {
  stop();
}

void SerialIngest::open_port() {
  open_raw_serial_port(io_->port, options_.port, options_.baud);
}

void SerialIngest::start() {
  if (running_) return;
  open_port();
  running_ = true;
  spdlog::info("serial: reading {} at {} baud, format {}{}", options_.port, options_.baud, to_string(options_.format),
               openbci_ ? fmt::format(" as device '{}' ({} channels, {} Hz)", options_.device_id, channels_, rate_hz_)
                        : std::string{});
  read_next();
  thread_ = std::thread([this] { io_->context.run(); });
}

void SerialIngest::stop() {
  if (!running_) return;
  running_ = false;
  // Everything runs on the reading thread, so the port is never touched from two threads.
  asio::post(io_->context, [this] {
    stopping_ = true;
    boost::system::error_code ignored;
    io_->port.cancel(ignored);
    io_->port.close(ignored);
    io_->reopen_timer.cancel();
    io_->flush_timer.cancel();
    flush();
  });
  thread_.join();
  spdlog::info("serial: stopped reading {} ({} bytes read)", options_.port, bytes_read_.load());
}

void SerialIngest::read_next() {
  io_->port.async_read_some(asio::buffer(io_->buffer), [this](const boost::system::error_code& ec, std::size_t n) {
    if (stopping_ || ec == asio::error::operation_aborted) return;
    if (n > 0) {
      bump(bytes_read_, n);
      // Blocks while the sink is full (policy block): no further read is issued meanwhile.
      feed(std::span<const std::uint8_t>(io_->buffer.data(), n));
      if (pending_frames_ > 0) arm_flush_timer();
    }
    if (ec) {
      on_read_error(ec.message());
      return;
    }
    read_next();
  });
}

void SerialIngest::on_read_error(const std::string& what) {
  bump(read_errors_);
  spdlog::warn("serial: reading {} failed ({}); closing it and reopening every {} ms", options_.port, what,
               options_.reopen_interval.count());
  flush();  // frames already decoded are good
  boost::system::error_code ignored;
  io_->port.close(ignored);
  schedule_reopen();
}

void SerialIngest::schedule_reopen() {
  io_->reopen_timer.expires_after(options_.reopen_interval);
  io_->reopen_timer.async_wait([this](const boost::system::error_code& ec) {
    if (stopping_ || ec) return;
    try {
      open_port();
    } catch (const std::runtime_error& e) {
      if (open_failures_.load(std::memory_order_relaxed) == 0) spdlog::warn("serial: {}; retrying", e.what());
      bump(open_failures_);
      schedule_reopen();
      return;
    }
    bump(reopens_);
    spdlog::info("serial: reopened {}", options_.port);
    read_next();
  });
}

void SerialIngest::arm_flush_timer() {
  if (flush_timer_armed_) return;
  flush_timer_armed_ = true;
  io_->flush_timer.expires_after(options_.max_batch_delay);
  io_->flush_timer.async_wait([this](const boost::system::error_code& ec) {
    flush_timer_armed_ = false;
    if (stopping_ || ec) return;
    flush();
  });
}

void SerialIngest::feed(std::span<const std::uint8_t> bytes) {
  if (openbci_) {
    openbci_->feed(bytes, [this](const OpenBciFrame& frame) { on_openbci_frame(frame); });
  } else {
    framer_.feed(bytes, [this](std::span<const std::uint8_t> payload) { on_framed_payload(payload); });
  }
}

void SerialIngest::on_framed_payload(std::span<const std::uint8_t> payload) {
  // The framer hands out payloads at the start of its own heap buffer, so they are aligned
  // for the FlatBuffers verifier without a copy.
  DecodedBatch batch;
  const auto received = std::chrono::steady_clock::now();
  if (const auto error = batch_decoder_.decode(payload, batch); error != DecodeError::kNone) {
    sink_.count_bad_payload(payload.size());
    const auto now = std::chrono::steady_clock::now();
    if (now - last_bad_log_ > std::chrono::seconds(1)) {
      spdlog::warn("serial: dropped an intact frame from {} whose payload ({} bytes) is not a valid batch: {}",
                   options_.port, payload.size(), to_string(error));
      last_bad_log_ = now;
    }
    return;
  }
  sink_.push(batch, std::chrono::steady_clock::now() - received, payload.size());
}

void SerialIngest::on_openbci_frame(const OpenBciFrame& frame) {
  // A batch is a run of consecutive sequence numbers: a gap (lost packets) starts a new one.
  if (pending_frames_ > 0 && frame.sequence != pending_first_seq_ + pending_frames_) flush();
  if (pending_frames_ == 0) pending_first_seq_ = frame.sequence;
  pending_.insert(pending_.end(), frame.uv.begin(), frame.uv.begin() + channels_);
  ++pending_frames_;
  if (pending_frames_ == frames_per_batch_) flush();
}

void SerialIngest::flush() {
  if (pending_frames_ == 0) return;
  if (!have_origin_) {
    // The board has no clock: frame n is at origin + (n - first n) × period.
    have_origin_ = true;
    origin_seq_ = pending_first_seq_;
    origin_time_ns_ = options_.start_time_ns != 0 ? options_.start_time_ns : wall_clock_ns();
  }
  DecodedBatch batch;
  batch.device_id = options_.device_id;
  batch.first_seq = pending_first_seq_;
  batch.first_time_ns =
      origin_time_ns_ + std::llround(static_cast<double>(pending_first_seq_ - origin_seq_) * 1e9 / rate_hz_);
  batch.sample_rate_hz = rate_hz_;
  batch.channels = channels_;
  batch.samples = pending_;
  sink_.push(batch);
  pending_.clear();
  pending_frames_ = 0;
}

SerialStats SerialIngest::stats() const {
  SerialStats s;
  s.port = options_.port;
  s.format = std::string(to_string(options_.format));
  s.bytes_read = bytes_read_.load(std::memory_order_relaxed);
  s.read_errors = read_errors_.load(std::memory_order_relaxed);
  s.reopens = reopens_.load(std::memory_order_relaxed);
  s.open_failures = open_failures_.load(std::memory_order_relaxed);
  if (openbci_) {
    s.frames = openbci_->frames();
    s.packets = openbci_->packets();
    s.resyncs = openbci_->resyncs();
    s.bytes_discarded = openbci_->bytes_discarded();
    s.lost_packets = openbci_->lost_packets();
    s.unpaired_daisy = openbci_->unpaired_daisy();
  } else {
    s.frames = framer_.frames();
    s.bad_payloads = batch_decoder_.rejected_total();
    s.crc_errors = framer_.crc_errors();
    s.cobs_errors = framer_.cobs_errors();
    s.oversize = framer_.oversize();
    // Each bad frame means the decoder skipped bytes up to the next delimiter.
    s.resyncs = s.crc_errors + s.cobs_errors + s.oversize;
    s.bytes_discarded = framer_.bytes_discarded();
  }
  return s;
}

}  // namespace sensorgate
