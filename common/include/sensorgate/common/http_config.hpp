#pragma once
// The [http] configuration section, shared by the gateway and the collector:
//   port              0 (off) or the port to serve on (--http-port)
//   bind              address to bind, "127.0.0.1" by default
//   token / token_file  the bearer token; required when `bind` is not a loopback address
//   web_root          the dashboard's files (default: default_web_root())
//   push_interval_ms  WebSocket push cadence

#include <cstdint>

#include "sensorgate/common/config_file.hpp"
#include "sensorgate/common/http_server.hpp"

namespace sensorgate {

struct HttpConfig {
  std::uint16_t port = 0;  ///< 0: no HTTP server
  http::ServerOptions server;

  /// Reads the [http] keys; throws ConfigError (a non-loopback bind without a token, an
  /// unreadable token file).
  static HttpConfig from(ConfigFile& file);
};

}  // namespace sensorgate
