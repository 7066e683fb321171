#include "sensorgate/common/serial_port.hpp"

#include <boost/system/system_error.hpp>
#include <stdexcept>

namespace sensorgate {

void open_raw_serial_port(boost::asio::serial_port& port, const std::string& path, unsigned baud) {
  try {
    port.open(path);
    using base = boost::asio::serial_port_base;
    port.set_option(base::baud_rate(baud));
    port.set_option(base::character_size(8));
    port.set_option(base::parity(base::parity::none));
    port.set_option(base::stop_bits(base::stop_bits::one));
    port.set_option(base::flow_control(base::flow_control::none));
  } catch (const boost::system::system_error& e) {
    boost::system::error_code ignored;
    port.close(ignored);  // NOLINT(bugprone-unused-return-value): closing a port that failed to open
    throw std::runtime_error("cannot open serial port " + path + " at " + std::to_string(baud) +
                             " baud: " + e.code().message());
  }
}

}  // namespace sensorgate
