#pragma once
// HttpServer: the small embedded HTTP/1.1 + WebSocket server behind the gateway's and the
// collector's /healthz, /metrics, /api/v1/*, /ws/* and dashboard files (docs/http-api.md).
//
// Why this shape:
// - Boost.Beast rather than a web framework: Asio is already a dependency (serial ingest),
//   Beast is header-only in the same Debian package, and the load is a few dashboards and a
//   Prometheus scraper, not a web site.
// - One io_context on one thread of its own: the pipeline threads never wait on a client,
//   and handlers need no locking among themselves. Handlers run on that thread, so they must
//   be quick and may only read what is safe to read from another thread (atomic counters,
//   snapshots taken under a short lock).
// - Hostile input is bounded: request size, connection count and idle time are limited,
//   and a slow WebSocket client skips pushes instead of queueing them or holding others.
// - Beast stays out of this header (the server state is behind a pointer), so the
//   executables' wiring code does not compile Asio.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace sensorgate::http {

/// What a handler sees of a GET request.
struct Request {
  std::string method;  ///< "GET" or "HEAD"
  /// Percent-decoded path without the query: "/api/v1/devices/sim-0/window".
  std::string path;
  /// Percent-decoded query parameters ('+' is a space; the first of repeated keys wins).
  /// The `token` parameter is removed when the server requires a token, so no handler can
  /// echo it back.
  std::map<std::string, std::string, std::less<>> query;
};

/// What a handler answers; the server adds Content-Length, Server, X-Content-Type-Options
/// and Cache-Control, and answers HEAD with the headers alone.
struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;

  static Response json(std::string body, unsigned status = 200);
  static Response text(std::string body, std::string content_type = "text/plain; charset=utf-8", unsigned status = 200);
  /// `status` with the JSON body {"error":"<message>"} (the message JSON-escaped; bytes that
  /// are not valid UTF-8 become U+FFFD).
  static Response error(unsigned status, std::string_view message);
  /// 404 with {"error":"not found: <what>"}.
  static Response not_found(std::string_view what);
};

using Handler = std::function<Response(const Request&)>;
/// Called for every push to one WebSocket client, with the request that opened it (so a
/// client can pick what it watches, e.g. ?device=ID); returns the message (JSON text).
using MessageProducer = std::function<std::string(const Request& upgrade_request)>;

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: the kernel picks one (port() tells)
  /// Required when bind_address is not a loopback address: everything but /healthz then
  /// needs `Authorization: Bearer <token>` or `?token=<token>` (browsers cannot set headers
  /// on a WebSocket). Compared in constant time and never logged.
  std::string bearer_token;
  /// Static files for every GET no route matched ("/" and directories: index.html); empty:
  /// none. Paths with ".." segments or resolving outside it (symbolic links included): 404.
  std::filesystem::path web_root;
  std::chrono::milliseconds push_interval{500};  ///< WebSocket push cadence
  /// Open connections (HTTP and WebSocket) beyond this are closed at once and counted.
  std::size_t max_connections = 64;
  /// Limit of the request header and, separately, of its body: larger requests get 431 or
  /// 413 and are closed. Also the largest WebSocket message a client may send.
  std::size_t max_request_bytes = std::size_t{16} * 1024;
  /// A connection that sends nothing for this long is closed (WebSocket clients are pinged
  /// first and must answer).
  std::chrono::seconds idle_timeout{30};
};

/// Written by the server thread only (relaxed); any thread may read them.
struct ServerCounters {
  std::atomic<std::uint64_t> requests{0};  ///< requests read, malformed ones included
  std::atomic<std::uint64_t> responses_2xx{0};
  std::atomic<std::uint64_t> responses_4xx{0};
  std::atomic<std::uint64_t> responses_5xx{0};         ///< handler exceptions among them
  std::atomic<std::uint64_t> unauthorized{0};          ///< 401
  std::atomic<std::uint64_t> not_found{0};             ///< 404
  std::atomic<std::uint64_t> bad_requests{0};          ///< 400, 413, 431: malformed or too large
  std::atomic<std::uint64_t> rejected_connections{0};  ///< over max_connections
  std::atomic<std::uint64_t> websocket_sessions{0};    ///< gauge: open now
  std::atomic<std::uint64_t> websocket_messages{0};    ///< pushes written
  std::atomic<std::uint64_t> bytes_sent{0};            ///< HTTP responses and WebSocket pushes
};

namespace detail {
struct ServerState;
}

class HttpServer {
 public:
  /// Throws std::invalid_argument for a non-loopback bind_address without a bearer_token,
  /// and for a push_interval or max_request_bytes of zero.
  explicit HttpServer(ServerOptions options);
  ~HttpServer();  ///< stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registration happens before start() (std::logic_error after): the tables are then read
  // by the server thread without locks.
  /// GET (and HEAD) of exactly `path`.
  void route(std::string path, Handler handler);
  /// GET paths starting with `prefix`, e.g. "/api/v1/devices/"; the longest prefix wins and
  /// exact routes come first.
  void route_prefix(std::string prefix, Handler handler);
  /// A WebSocket endpoint: sends producer(request) on connection and then every
  /// push_interval, as text frames; what the client sends is read and ignored.
  void websocket(std::string path, MessageProducer producer);

  /// Binds, listens and serves on a thread of its own. Throws std::runtime_error naming the
  /// address and the reason (e.g. "Address already in use"); std::logic_error when called
  /// twice.
  void start();
  /// Closes the listener and every connection, then joins the server thread. Idempotent;
  /// not from a handler (it would wait for itself).
  void stop();

  /// The bound port once started (0 before).
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] const ServerCounters& counters() const;

 private:
  std::unique_ptr<detail::ServerState> state_;
};

/// True for 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and "localhost".
bool is_loopback_address(std::string_view address);

}  // namespace sensorgate::http
