#pragma once
// A plain synchronous HTTP GET against a loopback port, for the tests of the gateway's and
// the collector's HTTP APIs.

#include <string>

namespace sensorgate::testing {

struct HttpReply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

/// GET http://127.0.0.1:<port><target> on a fresh connection, with `Authorization: Bearer
/// <token>` when a token is given. Throws std::runtime_error when the connection fails.
HttpReply http_get(int port, const std::string& target, const std::string& bearer_token = "");

}  // namespace sensorgate::testing
