#include "sensorgate/common/http_config.hpp"

#include <fstream>

#include "sensorgate/common/runtime.hpp"

namespace sensorgate {

HttpConfig HttpConfig::from(ConfigFile& file) {
  HttpConfig c;
  c.port = static_cast<std::uint16_t>(file.get_int(
      "http.port", 0, 0, 65535, "Port of /metrics, the JSON API, the WebSockets and the dashboard; 0 = off"));
  c.server.port = c.port;
  c.server.bind_address =
      file.get_string("http.bind", "127.0.0.1", "Address to listen on; any but loopback needs token or token_file");
  c.server.bearer_token =
      file.get_string("http.token", "", "Bearer token clients must send; \"\" = none; prefer token_file");
  const auto token_file =
      file.get_string("http.token_file", "", "File whose first line is the bearer token; not together with token");
  if (!token_file.empty()) {
    if (!c.server.bearer_token.empty()) file.fail("http.token_file", "set either http.token or http.token_file");
    std::ifstream in(token_file);
    if (!std::getline(in, c.server.bearer_token) || c.server.bearer_token.empty()) {
      file.fail("http.token_file", "cannot read a token from the first line of '" + token_file + "'");
    }
  }
  if (c.port != 0 && c.server.bearer_token.empty() && !http::is_loopback_address(c.server.bind_address)) {
    file.fail("http.bind", "binding to a non-loopback address needs http.token or http.token_file");
  }
  const auto web_root =
      file.get_string("http.web_root", "", "The dashboard's files; \"\" = <exe dir>/../share/sensorgate/web");
  c.server.web_root = web_root.empty() ? default_web_root() : std::filesystem::path(web_root);
  c.server.push_interval =
      std::chrono::milliseconds(file.get_int("http.push_interval_ms", 500, 50, 60'000, "WebSocket push cadence, ms"));
  return c;
}

}  // namespace sensorgate
