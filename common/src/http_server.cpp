#include "sensorgate/common/http_server.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sensorgate::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using HttpRequest = bhttp::request<bhttp::string_body>;
using HttpResponse = bhttp::response<bhttp::string_body>;

namespace {

constexpr std::string_view kHealthPath = "/healthz";
// How long a connection closed after a malformed request may still send what it had in
// flight: closing with unread data would reset the connection and could lose the answer.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

std::string_view view(beast::string_view s) {
  return {s.data(), s.size()};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `in`; nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += plus_is_space && in[i] == '+' ? ' ' : in[i];
    }
  }
  return out;
}

/// The Request for an origin-form target ("/path?query"); nullopt when malformed.
std::optional<Request> parse_target(std::string_view method, std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  const auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question), false);
  if (!path || path->find('\0') != std::string::npos) return std::nullopt;
  Request request{std::string(method), std::move(*path), {}};
  std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    auto key = percent_decode(item.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : item.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    request.query.emplace(std::move(*key), std::move(*value));
  }
  return request;
}

/// Compares in time that depends on the expected token's length only, so a client cannot
/// find the token byte by byte by timing.
bool constant_time_equal(std::string_view given, std::string_view expected) {
  unsigned diff = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned>(static_cast<unsigned char>(g) ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

std::string content_type_of(const std::filesystem::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  }};
  const auto ext = file.extension().string();
  const auto* it = std::find_if(kTypes.begin(), kTypes.end(), [&](const auto& t) { return t.first == ext; });
  return std::string(it == kTypes.end() ? "application/octet-stream" : it->second);
}

/// The handler's answer; an exception becomes a 500 (logged) instead of ending the server.
Response call(const Handler& handler, const Request& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    spdlog::warn("http: handler for {} failed: {}", request.path, e.what());
  } catch (...) {
    spdlog::warn("http: handler for {} failed", request.path);
  }
  return Response::error(500, "internal error");
}

/// A connection the server can close at stop(); registers itself while it lives.
class Connection {
 public:
  explicit Connection(detail::ServerState& state);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  /// Closes the socket: pending operations complete with an error and start nothing new.
  virtual void close() = 0;

 protected:
  [[nodiscard]] detail::ServerState& state() const { return state_; }

 private:
  detail::ServerState& state_;
};

}  // namespace

namespace detail {

/// Everything the server thread owns. Members used by sessions come before the io_context
/// so that sessions destroyed with it still find them.
struct ServerState {
  ServerOptions options;
  std::map<std::string, Handler, std::less<>> routes;
  std::vector<std::pair<std::string, Handler>> prefix_routes;  // longest first
  std::map<std::string, MessageProducer, std::less<>> sockets;
  std::filesystem::path web_root;  // canonical
  ServerCounters counters;
  std::unordered_set<Connection*> connections;
  bool stopping = false;
  std::uint16_t port = 0;
  bool started = false;

  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  std::thread thread;

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void shut_down();
  [[nodiscard]] bool authorized(const HttpRequest& req, const Request& request) const;
  [[nodiscard]] std::optional<Response> static_file(std::string_view path) const;
  /// The answer to `req`; sets `socket` when it is an authorised WebSocket upgrade, which
  /// then gets no HTTP answer.
  Response dispatch(const HttpRequest& req, Request& request, const MessageProducer*& socket);
  HttpResponse make_response(Response response, unsigned version, bool keep_alive);
};

}  // namespace detail

namespace {

Connection::Connection(detail::ServerState& state) : state_(state) {
  state_.connections.insert(this);
}
Connection::~Connection() {
  state_.connections.erase(this);
}

class WebSocketSession final : public Connection, public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(detail::ServerState& state, tcp::socket socket, const MessageProducer& producer, Request request)
      : Connection(state),
        ws_(std::move(socket)),
        timer_(ws_.get_executor()),
        producer_(producer),
        request_(std::move(request)) {}
  WebSocketSession(const WebSocketSession&) = delete;
  WebSocketSession& operator=(const WebSocketSession&) = delete;
  ~WebSocketSession() override {
    if (open_) state().counters.websocket_sessions.fetch_sub(1, std::memory_order_relaxed);
  }

  void start(const HttpRequest& upgrade) {
    const auto& options = state().options;
    ws_.set_option(websocket::stream_base::timeout{options.idle_timeout, options.idle_timeout, true});
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(bhttp::field::server, "sensorgate"); }));
    ws_.read_message_max(options.max_request_bytes);
    ws_.text(true);
    ws_.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) { self->on_open(ec); });
  }

  void close() override {
    closed_ = true;
    timer_.cancel();
    beast::get_lowest_layer(ws_).close();
  }

 private:
  void on_open(beast::error_code ec) {
    if (ec || closed_ || state().stopping) return;
    open_ = true;
    state().counters.websocket_sessions.fetch_add(1, std::memory_order_relaxed);
    read();
    push();
  }

  // Reading notices the client's close (Beast answers it) and its pongs; messages are dropped.
  void read() {
    ws_.async_read(incoming_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        self->timer_.cancel();
        return;
      }
      self->incoming_.clear();
      self->read();
    });
  }

  // One write at a time: a tick that finds the previous message still being written is
  // skipped, so a slow client gets fewer messages and never a queue.
  void push() {
    if (closed_ || state().stopping) return;
    if (!writing_ && produce()) {
      writing_ = true;
      ws_.async_write(net::buffer(message_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->writing_ = false;
        if (ec) return;
        self->state().counters.websocket_messages.fetch_add(1, std::memory_order_relaxed);
        self->state().counters.bytes_sent.fetch_add(n, std::memory_order_relaxed);
      });
    }
    timer_.expires_after(state().options.push_interval);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->push();
    });
  }

  bool produce() {
    try {
      message_ = producer_(request_);
      return true;
    } catch (const std::exception& e) {
      if (!producer_failed_) spdlog::warn("http: WebSocket {}: producer failed: {}", request_.path, e.what());
    } catch (...) {
      if (!producer_failed_) spdlog::warn("http: WebSocket {}: producer failed", request_.path);
    }
    producer_failed_ = true;  // warn once per session, not at every tick
    return false;
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer timer_;
  const MessageProducer& producer_;
  Request request_;
  beast::flat_buffer incoming_;
  std::string message_;
  bool open_ = false;
  bool closed_ = false;
  bool writing_ = false;
  bool producer_failed_ = false;
};

class HttpSession final : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(detail::ServerState& state, tcp::socket socket) : Connection(state), stream_(std::move(socket)) {}
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;
  ~HttpSession() override = default;

  void read() {
    if (state().stopping) return;
    const auto limit = state().options.max_request_bytes;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limit, UINT32_MAX)));
    parser_->body_limit(limit);
    stream_.expires_after(state().options.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void close() override { stream_.close(); }

 private:
  void on_read(beast::error_code ec) {
    if (state().stopping) return;
    if (ec == bhttp::error::end_of_stream) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    if (ec) {
      reject(ec);
      return;
    }
    HttpRequest req = parser_->release();
    Request request;
    const MessageProducer* socket = nullptr;
    auto response = state().dispatch(req, request, socket);
    if (socket != nullptr) {
      std::make_shared<WebSocketSession>(state(), stream_.release_socket(), *socket, std::move(request))->start(req);
      return;
    }
    const bool keep_alive = req.keep_alive() && response.status != 400;
    write(state().make_response(std::move(response), req.version(), keep_alive), req.method() == bhttp::verb::head);
  }

  // A request Beast could not parse: answer 400 (431/413 when too large) and close. Network
  // errors (timeout, reset, a client gone mid-request) close without an answer.
  void reject(beast::error_code ec) {
    const auto& parse_errors = bhttp::make_error_code(bhttp::error::bad_target).category();
    if (ec.category() != parse_errors || ec == bhttp::error::partial_message) return;
    state().counters.requests.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("http: bad request from {}: {}", endpoint(), ec.message());
    unsigned status = 400;
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) status = 431;
    if (ec == bhttp::error::body_limit) status = 413;
    write(state().make_response(Response::error(status, ec.message()), 11, false), false);
  }

  void write(HttpResponse response, bool head_only) {
    response_ = std::move(response);
    serializer_.emplace(response_);
    auto on_write = [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_write(ec, n); };
    if (head_only) {
      bhttp::async_write_header(stream_, *serializer_, std::move(on_write));
    } else {
      bhttp::async_write(stream_, *serializer_, std::move(on_write));
    }
  }

  void on_write(beast::error_code ec, std::size_t bytes) {
    state().counters.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
    if (ec || state().stopping) return;
    if (response_.keep_alive()) {
      read();
      return;
    }
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    discard();
  }

  void discard() {
    stream_.async_read_some(net::buffer(discarded_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec && !self->state().stopping) self->discard();
    });
  }

  [[nodiscard]] std::string endpoint() const {
    beast::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    return ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  HttpResponse response_;
  std::optional<bhttp::response_serializer<bhttp::string_body>> serializer_;
  std::array<char, 4096> discarded_{};
};

}  // namespace

namespace detail {

void ServerState::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void ServerState::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping) return;
  if (ec) {
    // Out of descriptors and the like: try again shortly instead of spinning.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_retry.expires_after(kAcceptRetry);
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping) accept();
    });
    return;
  }
  if (connections.size() >= options.max_connections) {
    counters.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    socket.close(ec);
  } else {
    std::make_shared<HttpSession>(*this, std::move(socket))->read();
  }
  accept();
}

void ServerState::shut_down() {
  stopping = true;
  beast::error_code ec;
  acceptor.close(ec);
  accept_retry.cancel();
  const std::vector<Connection*> open(connections.begin(), connections.end());
  for (auto* connection : open) connection->close();
}

bool ServerState::authorized(const HttpRequest& req, const Request& request) const {
  const auto& token = options.bearer_token;
  if (token.empty() || request.path == kHealthPath) return true;
  constexpr beast::string_view kScheme = "Bearer ";
  const auto header = req[bhttp::field::authorization];
  if (header.size() > kScheme.size() && beast::iequals(header.substr(0, kScheme.size()), kScheme) &&
      constant_time_equal(view(header.substr(kScheme.size())), token)) {
    return true;
  }
  const auto it = request.query.find("token");
  return it != request.query.end() && constant_time_equal(it->second, token);
}

std::optional<Response> ServerState::static_file(std::string_view path) const {
  if (web_root.empty()) return std::nullopt;
  const std::filesystem::path relative(path.substr(1));
  if (std::any_of(relative.begin(), relative.end(), [](const auto& part) { return part == ".."; })) {
    return std::nullopt;
  }
  std::error_code ec;
  auto file = web_root / relative;
  if (std::filesystem::is_directory(file, ec)) file /= "index.html";
  // Resolving symbolic links before the prefix check keeps links out of the root out too.
  file = std::filesystem::weakly_canonical(file, ec);
  if (ec || std::mismatch(web_root.begin(), web_root.end(), file.begin(), file.end()).first != web_root.end() ||
      !std::filesystem::is_regular_file(file, ec)) {
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in && !in.eof()) return Response::error(500, "cannot read file");
  return Response::text(std::move(body), content_type_of(file));
}

Response ServerState::dispatch(const HttpRequest& req, Request& request, const MessageProducer*& socket) {
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  auto parsed = parse_target(view(req.method_string()), view(req.target()));
  if (!parsed) return Response::error(400, "malformed request target");
  request = std::move(*parsed);
  if (!authorized(req, request)) return Response::error(401, "missing or wrong token");
  if (!options.bearer_token.empty()) request.query.erase("token");
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
    return Response::error(405, "only GET and HEAD are supported");
  }
  if (const auto it = sockets.find(request.path); it != sockets.end()) {
    if (!websocket::is_upgrade(req)) return Response::error(426, "WebSocket endpoint: upgrade required");
    socket = &it->second;
    return {};
  }
  if (const auto it = routes.find(request.path); it != routes.end()) return call(it->second, request);
  for (const auto& [prefix, handler] : prefix_routes) {
    if (request.path.starts_with(prefix)) return call(handler, request);
  }
  if (auto file = static_file(request.path)) return std::move(*file);
  return Response::not_found(request.path);
}

HttpResponse ServerState::make_response(Response response, unsigned version, bool keep_alive) {
  const auto status = response.status;
  auto& c = counters;
  if (status >= 200 && status < 300) c.responses_2xx.fetch_add(1, std::memory_order_relaxed);
  if (status >= 400 && status < 500) c.responses_4xx.fetch_add(1, std::memory_order_relaxed);
  if (status >= 500) c.responses_5xx.fetch_add(1, std::memory_order_relaxed);
  if (status == 401) c.unauthorized.fetch_add(1, std::memory_order_relaxed);
  if (status == 404) c.not_found.fetch_add(1, std::memory_order_relaxed);
  if (status == 400 || status == 413 || status == 431) c.bad_requests.fetch_add(1, std::memory_order_relaxed);

  HttpResponse res;
  res.result(status);
  res.version(version);
  res.set(bhttp::field::server, "sensorgate");
  res.set(bhttp::field::content_type, response.content_type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set(bhttp::field::cache_control, "no-cache");
  if (status == 401) res.set(bhttp::field::www_authenticate, "Bearer");
  if (status == 405) res.set(bhttp::field::allow, "GET, HEAD");
  res.keep_alive(keep_alive);
  res.body() = std::move(response.body);
  res.prepare_payload();
  return res;
}

}  // namespace detail

Response Response::json(std::string body, unsigned status) {
  return {status, "application/json", std::move(body)};
}

Response Response::text(std::string body, std::string content_type, unsigned status) {
  return {status, std::move(content_type), std::move(body)};
}

Response Response::error(unsigned status, std::string_view message) {
  // Replace, not throw: a message may quote request bytes that are not valid UTF-8.
  const nlohmann::json body = {{"error", message}};
  return json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), status);
}

Response Response::not_found(std::string_view what) {
  return error(404, "not found: " + std::string(what));
}

bool is_loopback_address(std::string_view address) {
  if (address == "localhost") return true;
  beast::error_code ec;
  const auto parsed = net::ip::make_address(std::string(address), ec);
  if (ec) return false;
  if (parsed.is_v4()) return parsed.to_v4().is_loopback();
  const auto v6 = parsed.to_v6();
  return v6.is_loopback() || (v6.is_v4_mapped() && net::ip::make_address_v4(net::ip::v4_mapped, v6).is_loopback());
}

HttpServer::HttpServer(ServerOptions options) : state_(std::make_unique<detail::ServerState>()) {
  if (options.bearer_token.empty() && !is_loopback_address(options.bind_address)) {
    throw std::invalid_argument("http: binding to " + options.bind_address +
                                " (not a loopback address) requires a bearer token");
  }
  if (options.push_interval.count() <= 0) throw std::invalid_argument("http: push_interval must be positive");
  if (options.max_request_bytes == 0) throw std::invalid_argument("http: max_request_bytes must be positive");
  state_->options = std::move(options);
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string path, Handler handler) {
  if (state_->started) throw std::logic_error("http: route() after start()");
  state_->routes.insert_or_assign(std::move(path), std::move(handler));
}

void HttpServer::route_prefix(std::string prefix, Handler handler) {
  if (state_->started) throw std::logic_error("http: route_prefix() after start()");
  auto& routes = state_->prefix_routes;
  routes.emplace_back(std::move(prefix), std::move(handler));
  std::stable_sort(routes.begin(), routes.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

void HttpServer::websocket(std::string path, MessageProducer producer) {
  if (state_->started) throw std::logic_error("http: websocket() after start()");
  state_->sockets.insert_or_assign(std::move(path), std::move(producer));
}

void HttpServer::start() {
  auto& s = *state_;
  if (s.started) throw std::logic_error("http: start() called twice");
  const auto& address = s.options.bind_address;
  const auto where = address + ":" + std::to_string(s.options.port);
  beast::error_code ec;
  const auto ip = net::ip::make_address(address == "localhost" ? "127.0.0.1" : address, ec);
  if (ec) throw std::runtime_error("http: cannot listen on " + where + ": not an IP address");
  const tcp::endpoint endpoint{ip, s.options.port};
  const auto fail = [&](const beast::error_code& error) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    throw std::runtime_error("http: cannot listen on " + where + ": " + error.message());
  };
  if (s.acceptor.open(endpoint.protocol(), ec)) fail(ec);
  if (s.acceptor.set_option(net::socket_base::reuse_address(true), ec)) fail(ec);
  if (s.acceptor.bind(endpoint, ec)) fail(ec);
  if (s.acceptor.listen(net::socket_base::max_listen_connections, ec)) fail(ec);
  s.port = s.acceptor.local_endpoint().port();

  if (!s.options.web_root.empty()) {
    std::error_code fs_ec;
    s.web_root = std::filesystem::weakly_canonical(s.options.web_root, fs_ec);
    if (fs_ec || !std::filesystem::is_directory(s.web_root, fs_ec)) {
      spdlog::warn("http: web root {} is not a directory: no static files", s.options.web_root.string());
      s.web_root.clear();
    }
  }
  s.started = true;
  s.accept();
  s.thread = std::thread([&s] {
    for (;;) {  // a handler that throws past its own catch must not end the server
      try {
        s.ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: {}", e.what());
      }
    }
  });
  spdlog::info("http: listening on {}:{}{}", address, s.port,
               s.options.bearer_token.empty() ? "" : " (bearer token required)");
}

void HttpServer::stop() {
  auto& s = *state_;
  if (!s.thread.joinable()) return;
  net::post(s.ioc, [&s] { s.shut_down(); });
  s.thread.join();
  spdlog::info("http: stopped");
}

std::uint16_t HttpServer::port() const {
  return state_->port;
}

const ServerCounters& HttpServer::counters() const {
  return state_->counters;
}

}  // namespace sensorgate::http
