#pragma once
// open_raw_serial_port: a serial device opened the way every sensorgate serial link uses
// it, raw 8N1 without flow control at any baud rate; shared by the gateway's serial ingest
// and the simulator's serial writer.

#include <boost/asio/serial_port.hpp>
#include <string>

namespace sensorgate {

/// Opens `path` on `port` and sets `baud`, 8 data bits, no parity, 1 stop bit, no flow
/// control. On failure the port is left closed and std::runtime_error names the port, the
/// baud rate and the system's reason.
void open_raw_serial_port(boost::asio::serial_port& port, const std::string& path, unsigned baud);

}  // namespace sensorgate
