#include "sensorgate/common/http_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

using Headers = std::vector<std::pair<bhttp::field, std::string>>;

tcp::endpoint loopback(std::uint16_t port) {
  return {net::ip::make_address("127.0.0.1"), port};
}

/// One request on a fresh connection with a plain synchronous Beast client.
bhttp::response<bhttp::string_body> fetch(std::uint16_t port, const std::string& target, const Headers& headers = {},
                                          bhttp::verb method = bhttp::verb::get) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(loopback(port));
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  bhttp::write(socket, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(16U << 20U);
  parser.skip(method == bhttp::verb::head);
  bhttp::read(socket, buffer, parser);
  return parser.release();
}

/// Sends `bytes` as they are and returns the status of the answer.
unsigned exchange_raw(std::uint16_t port, const std::string& bytes) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(loopback(port));
  net::write(socket, net::buffer(bytes));
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  return res.result_int();
}

std::string body_of(std::uint16_t port, const std::string& target) {
  return fetch(port, target).body();
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

Response echo(const Request& r) {
  std::string body = r.method + " " + r.path;
  for (const auto& [key, value] : r.query) body.append(" ").append(key).append("=").append(value);
  return Response::text(body);
}

TEST(HttpServer, Get_RegisteredRoute_ReturnsHandlerBody) {
  HttpServer server({});
  server.route("/healthz", [](const Request&) { return Response::json(R"({"status":"ok"})"); });
  server.start();
  ASSERT_NE(server.port(), 0);
  auto res = fetch(server.port(), "/healthz");
  EXPECT_EQ(res.result_int(), 200U);
  EXPECT_EQ(res.body(), R"({"status":"ok"})");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res[bhttp::field::server], "sensorgate");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res[bhttp::field::content_length], "15");
  EXPECT_EQ(server.counters().requests.load(), 1U);
  EXPECT_EQ(server.counters().responses_2xx.load(), 1U);
}

TEST(HttpServer, Get_KeepAlive_ServesSeveralRequestsOnOneConnection) {
  HttpServer server({});
  server.route("/a", echo);
  server.start();
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(loopback(server.port()));
  beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/a?i=" + std::to_string(i), 11};
    bhttp::write(socket, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket, buffer, res);
    EXPECT_EQ(res.body(), "GET /a i=" + std::to_string(i));
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST(HttpServer, Get_PrefixRoute_LongestPrefixWinsAndQueryIsDecoded) {
  HttpServer server({});
  server.route_prefix("/api/", [](const Request&) { return Response::text("short"); });
  server.route_prefix("/api/v1/devices/", echo);
  server.route("/api/v1/devices/", [](const Request&) { return Response::text("exact"); });
  server.start();
  EXPECT_EQ(body_of(server.port(), "/api/v1/devices/sim%2D0/window?a=1%202&b=x+y&c&a=ignored"),
            "GET /api/v1/devices/sim-0/window a=1 2 b=x y c=");
  EXPECT_EQ(body_of(server.port(), "/api/v1/other"), "short");
  EXPECT_EQ(body_of(server.port(), "/api/v1/devices/"), "exact");
}

TEST(HttpServer, Get_UnknownPath_Returns404Json) {
  HttpServer server({});
  server.start();
  auto res = fetch(server.port(), "/nope");
  EXPECT_EQ(res.result_int(), 404U);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res.body(), R"({"error":"not found: /nope"})");
  EXPECT_EQ(server.counters().not_found.load(), 1U);
  EXPECT_EQ(server.counters().responses_4xx.load(), 1U);
}

TEST(HttpServer, Post_AnyPath_Returns405) {
  HttpServer server({});
  server.route("/a", echo);
  server.start();
  auto res = fetch(server.port(), "/a", {}, bhttp::verb::post);
  EXPECT_EQ(res.result_int(), 405U);
  EXPECT_EQ(res[bhttp::field::allow], "GET, HEAD");
}

TEST(HttpServer, Head_RegisteredRoute_ReturnsHeadersWithoutBody) {
  HttpServer server({});
  server.route("/a", echo);
  server.start();
  auto res = fetch(server.port(), "/a", {}, bhttp::verb::head);
  EXPECT_EQ(res.result_int(), 200U);
  EXPECT_EQ(res[bhttp::field::content_length], "7");  // "HEAD /a"
  EXPECT_TRUE(res.body().empty());
}

TEST(HttpServer, Get_MalformedTarget_Returns400) {
  HttpServer server({});
  server.start();
  EXPECT_EQ(fetch(server.port(), "/a%zz").result_int(), 400U);
  EXPECT_EQ(exchange_raw(server.port(), "GARBAGE\r\n\r\n"), 400U);
  EXPECT_EQ(server.counters().bad_requests.load(), 2U);
}

TEST(HttpServer, ResponseError_QuotesControlAndInvalidUtf8_ValidJson) {
  const auto res = Response::error(400, "bad \"x\"\n\x01\xff");
  EXPECT_EQ(res.status, 400U);
  const auto body = nlohmann::json::parse(res.body);                       // throws on invalid JSON or UTF-8
  EXPECT_EQ(body.at("error"), "bad \"x\"\n\x01\xEF\xBF\xBD") << res.body;  // 0xFF became U+FFFD
}

TEST(HttpServer, Construct_NonLoopbackWithoutToken_Throws) {
  ServerOptions options;
  options.bind_address = "0.0.0.0";
  EXPECT_THROW(HttpServer{options}, std::invalid_argument);
  options.bearer_token = "secret";
  EXPECT_NO_THROW(HttpServer{options});
}

TEST(HttpServer, IsLoopbackAddress_Addresses_ClassifiesLoopback) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("127.1.2.3"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_TRUE(is_loopback_address("localhost"));
  EXPECT_FALSE(is_loopback_address("0.0.0.0"));
  EXPECT_FALSE(is_loopback_address("192.168.1.10"));
  EXPECT_FALSE(is_loopback_address("::"));
  EXPECT_FALSE(is_loopback_address("example.org"));
}

TEST(HttpServer, Get_TokenRequired_RefusesWithoutValidToken) {
  ServerOptions options;
  options.bearer_token = "s3cret";
  HttpServer server(options);
  server.route("/healthz", [](const Request&) { return Response::json("{}"); });
  server.route("/api", echo);
  server.start();
  const auto port = server.port();
  auto missing = fetch(port, "/api");
  EXPECT_EQ(missing.result_int(), 401U);
  EXPECT_EQ(missing[bhttp::field::www_authenticate], "Bearer");
  EXPECT_EQ(fetch(port, "/api", {{bhttp::field::authorization, "Bearer wrong"}}).result_int(), 401U);
  EXPECT_EQ(fetch(port, "/api", {{bhttp::field::authorization, "Bearer s3cret0"}}).result_int(), 401U);
  EXPECT_EQ(fetch(port, "/api?token=s3cre").result_int(), 401U);
  EXPECT_EQ(fetch(port, "/nope").result_int(), 401U);  // unknown paths are not revealed
  EXPECT_EQ(server.counters().unauthorized.load(), 5U);

  auto by_header = fetch(port, "/api?x=1", {{bhttp::field::authorization, "Bearer s3cret"}});
  EXPECT_EQ(by_header.result_int(), 200U);
  EXPECT_EQ(by_header.body(), "GET /api x=1");
  auto by_query = fetch(port, "/api?token=s3cret&x=1");
  EXPECT_EQ(by_query.result_int(), 200U);
  EXPECT_EQ(by_query.body(), "GET /api x=1");  // the token is not handed to handlers
  EXPECT_EQ(fetch(port, "/healthz").result_int(), 200U);
}

TEST(HttpServer, Get_HandlerThrows_Returns500AndKeepsServing) {
  HttpServer server({});
  server.route("/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); });
  server.route("/a", echo);
  server.start();
  auto res = fetch(server.port(), "/boom");
  EXPECT_EQ(res.result_int(), 500U);
  EXPECT_EQ(res.body(), R"({"error":"internal error"})");
  EXPECT_EQ(server.counters().responses_5xx.load(), 1U);
  EXPECT_EQ(body_of(server.port(), "/a"), "GET /a");
}

TEST(HttpServer, Get_OversizedRequest_Refused) {
  ServerOptions options;
  options.max_request_bytes = 1024;
  HttpServer server(options);
  server.route("/a", echo);
  server.start();
  const std::string pad(4000, 'x');
  EXPECT_EQ(exchange_raw(server.port(), "GET /a HTTP/1.1\r\nHost: h\r\nX-Pad: " + pad + "\r\n\r\n"), 431U);
  EXPECT_EQ(exchange_raw(server.port(), "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4000\r\n\r\n" + pad), 413U);
  EXPECT_EQ(server.counters().bad_requests.load(), 2U);
  EXPECT_EQ(body_of(server.port(), "/a"), "GET /a");
}

TEST(HttpServer, Get_StaticFiles_ServedWithTypeAndTraversalRefused) {
  sensorgate::testing::TempDir dir;
  const auto root = dir.path() / "web";
  std::filesystem::create_directories(root / "js");
  write_text(root / "index.html", "<html></html>");
  write_text(root / "js" / "app.js", "let x = 1;");
  write_text(dir.path() / "CMakeLists.txt", "secret");
  std::filesystem::create_symlink(dir.path() / "CMakeLists.txt", root / "link.txt");
  ServerOptions options;
  options.web_root = root;
  HttpServer server(options);
  server.route("/api", echo);
  server.start();
  const auto port = server.port();

  auto index = fetch(port, "/");
  EXPECT_EQ(index.result_int(), 200U);
  EXPECT_EQ(index.body(), "<html></html>");
  EXPECT_EQ(index[bhttp::field::content_type], "text/html; charset=utf-8");
  auto script = fetch(port, "/js/app.js");
  EXPECT_EQ(script.body(), "let x = 1;");
  EXPECT_EQ(script[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(body_of(port, "/api"), "GET /api");  // routes come first

  // "//tmp/.../CMakeLists.txt": root / "/tmp/..." would be "/tmp/..." without the prefix check.
  const auto absolute = "/" + (dir.path() / "CMakeLists.txt").string();
  for (const std::string& target :
       std::vector<std::string>{"/../CMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/js/../../CMakeLists.txt", "/link.txt",
                                "/missing.html", "/js/", absolute}) {
    auto res = fetch(port, target);
    EXPECT_EQ(res.result_int(), 404U) << target;
    EXPECT_THAT(res.body(), ::testing::Not(HasSubstr("secret"))) << target;
  }
}

/// A WebSocket client connected to `target`.
struct WsClient {
  net::io_context ioc;
  beast::websocket::stream<tcp::socket> ws{ioc};

  WsClient(std::uint16_t port, const std::string& target) {
    ws.next_layer().connect(loopback(port));
    ws.handshake("127.0.0.1", target);
  }
  std::string read() {
    beast::flat_buffer buffer;
    ws.read(buffer);
    return beast::buffers_to_string(buffer.data());
  }
};

TEST(HttpServer, WebSocket_Connected_ReceivesFreshMessagesWithQuery) {
  ServerOptions options;
  options.push_interval = 20ms;
  options.bearer_token = "t";
  std::atomic<int> calls{0};  // before the server, which calls the producer until it stops
  HttpServer server(options);
  server.websocket("/ws/live", [&](const Request& r) {
    const auto it = r.query.find("device");
    return std::to_string(++calls) + ":" + (it == r.query.end() ? "-" : it->second);
  });
  server.start();
  {
    WsClient client(server.port(), "/ws/live?device=x&token=t");
    EXPECT_EQ(client.read(), "1:x");
    EXPECT_EQ(client.read(), "2:x");
    EXPECT_EQ(client.read(), "3:x");
    EXPECT_EQ(server.counters().websocket_sessions.load(), 1U);
    client.ws.close(beast::websocket::close_code::normal);
  }
  EXPECT_TRUE(sensorgate::testing::wait_until([&] { return server.counters().websocket_sessions.load() == 0; }, 5s));
  EXPECT_GE(server.counters().websocket_messages.load(), 3U);

  EXPECT_THROW(WsClient(server.port(), "/ws/live?device=x"), beast::system_error);  // no token: 401
  EXPECT_EQ(fetch(server.port(), "/ws/live?token=t").result_int(), 426U);
}

TEST(HttpServer, WebSocket_SlowClient_DoesNotBlockOthers) {
  ServerOptions options;
  options.push_interval = 1ms;
  std::string big(std::size_t{256} * 1024, 'x');
  HttpServer server(options);
  server.websocket("/ws", [&](const Request&) { return big; });
  server.route("/a", echo);
  server.start();
  WsClient sleeper(server.port(), "/ws");  // never reads: its socket buffers fill up
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(body_of(server.port(), "/a"), "GET /a");
  WsClient reader(server.port(), "/ws");
  EXPECT_EQ(reader.read().size(), big.size());
}

TEST(HttpServer, Stop_OpenWebSocket_ReturnsPromptly) {
  ServerOptions options;
  options.push_interval = 20ms;
  HttpServer server(options);
  server.websocket("/ws", [](const Request&) { return std::string("{}"); });
  server.start();
  WsClient client(server.port(), "/ws");
  EXPECT_EQ(client.read(), "{}");
  const auto before = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_EQ(server.counters().websocket_sessions.load(), 0U);
  server.stop();  // idempotent
  beast::flat_buffer buffer;
  beast::error_code ec;
  while (!ec) client.ws.read(buffer, ec);  // drains what was sent, then sees the close
  EXPECT_TRUE(ec);
}

TEST(HttpServer, Accept_OverMaxConnections_ClosesAndCounts) {
  ServerOptions options;
  options.max_connections = 1;
  HttpServer server(options);
  server.websocket("/ws", [](const Request&) { return std::string("{}"); });
  server.start();
  WsClient client(server.port(), "/ws");
  EXPECT_EQ(client.read(), "{}");
  EXPECT_ANY_THROW(fetch(server.port(), "/ws"));
  EXPECT_EQ(server.counters().rejected_connections.load(), 1U);
}

TEST(HttpServer, Start_PortInUse_Throws) {
  HttpServer first({});
  first.start();
  ServerOptions options;
  options.port = first.port();
  HttpServer second(options);
  try {
    second.start();
    FAIL() << "start() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:" + std::to_string(first.port())));
    EXPECT_THAT(e.what(), HasSubstr("in use"));
  }
}

}  // namespace
}  // namespace sensorgate::http
