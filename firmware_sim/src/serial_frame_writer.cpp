#include "sensorgate/sim/serial_frame_writer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>
#include <span>
#include <stdexcept>

#include "sensorgate/common/serial_framing.hpp"
#include "sensorgate/common/serial_port.hpp"
#include "sensorgate/wire/frame_batch_generated.h"

namespace sensorgate::sim {

namespace asio = boost::asio;

struct SerialFrameWriter::Port {
  asio::io_context context;
  asio::serial_port port{context};
};

SerialFrameWriter::SerialFrameWriter(SerialWriterOptions options)
    : options_(std::move(options)), port_(std::make_unique<Port>()), rng_(options_.seed) {
  if (options_.port.empty()) throw std::invalid_argument("serial: no port given");
  if (options_.baud == 0) throw std::invalid_argument("serial: baud rate must be positive");
  if (!(options_.garbage_rate >= 0 && options_.garbage_rate <= 1)) {
    throw std::invalid_argument("serial: garbage rate must be in [0, 1]");
  }
  if (options_.format != SerialWireFormat::kFramed) {
    encoder_.emplace(options_.format == SerialWireFormat::kOpenBciDaisy, options_.gain);
  }
}

SerialFrameWriter::~SerialFrameWriter() = default;

void SerialFrameWriter::open() {
  open_raw_serial_port(port_->port, options_.port, options_.baud);
  // A leading delimiter ends whatever partial frame the line held before us.
  if (!encoder_) write({kSerialFrameDelimiter});
}

void SerialFrameWriter::write(const std::vector<std::uint8_t>& bytes) {
  try {
    asio::write(port_->port, asio::buffer(bytes));
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("writing to serial port " + options_.port + " failed: " + e.code().message());
  }
  bytes_ += bytes.size();
}

void SerialFrameWriter::append_garbage(std::vector<std::uint8_t>& out) {
  std::uniform_int_distribution<int> length(1, 64);
  std::uniform_int_distribution<int> byte(1, 255);
  const int n = length(rng_);
  for (int i = 0; i < n; ++i) {
    auto b = static_cast<std::uint8_t>(byte(rng_));
    // OpenBCI: no header byte, so the receiver skips the whole run in one resync.
    if (encoder_ && b == kOpenBciHeader) b = 0x55;
    out.push_back(b);
  }
  // Framed: the run is closed by its own delimiter, so it cannot merge with the next frame.
  if (!encoder_) out.push_back(kSerialFrameDelimiter);
  ++garbage_runs_;
  garbage_bytes_ += static_cast<std::uint64_t>(n);
}

void SerialFrameWriter::publish(const std::string& /*device_id*/, std::vector<std::uint8_t> payload) {
  out_.clear();
  if (options_.garbage_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < options_.garbage_rate) {
    append_garbage(out_);
  }
  if (!encoder_) {
    encode_serial_frame(payload, out_);
  } else {
    flatbuffers::Verifier verifier(payload.data(), payload.size());
    if (!wire::VerifyFrameBatchBuffer(verifier)) throw std::invalid_argument("serial: not a FrameBatch");
    const auto* batch = wire::GetFrameBatch(payload.data());
    const std::size_t channels = batch->channel_count();
    if (channels != encoder_->channels()) {
      throw std::invalid_argument("serial: the OpenBCI " +
                                  std::string(options_.format == SerialWireFormat::kOpenBciDaisy ? "Daisy" : "Cyton") +
                                  " format carries " + std::to_string(encoder_->channels()) +
                                  " channels, the stream has " + std::to_string(channels));
    }
    const std::span<const float> samples(batch->samples()->data(), batch->samples()->size());
    encoder_->set_next_frame(batch->first_seq());
    for (std::size_t offset = 0; offset + channels <= samples.size(); offset += channels) {
      encoder_->encode(samples.subspan(offset, channels), out_);
    }
  }
  write(out_);
  ++published_;
}

void SerialFrameWriter::finish(std::chrono::milliseconds /*timeout*/) {
  boost::system::error_code ignored;
  port_->port.close(ignored);
}

}  // namespace sensorgate::sim
