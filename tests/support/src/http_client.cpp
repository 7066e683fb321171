#include "sensorgate/testing/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

namespace sensorgate::testing {

HttpReply http_get(int port, const std::string& target, const std::string& bearer_token) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  try {
    boost::asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    http::request<http::string_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    if (!bearer_token.empty()) request.set(http::field::authorization, "Bearer " + bearer_token);
    http::write(socket, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64U << 20U);
    http::read(socket, buffer, parser);
    auto response = parser.release();
    return {response.result_int(), std::string(response[http::field::content_type]), std::move(response.body())};
  } catch (const beast::system_error& e) {
    throw std::runtime_error("GET 127.0.0.1:" + std::to_string(port) + target + ": " + e.code().message());
  }
}

}  // namespace sensorgate::testing
