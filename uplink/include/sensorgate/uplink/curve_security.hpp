#pragma once
// CurveZMQ for the gateway→collector uplink (and the model push that comes back on the
// same connection): key generation, key and allow-list files, socket setup, and a ZAP
// handler (RFC 27) that admits only listed client keys. docs/security.md has the threat
// model, the file formats and what is logged and counted.
//
// Who is who: the collector's ROUTER is the CURVE server (it holds the server secret key
// and a ZapAuthenticator with the gateways' public keys); each gateway's DEALER is a CURVE
// client (its own key pair plus the collector's public key). Everything on the connection
// is then encrypted and authenticated both ways, the model push included.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <zmq.hpp>

namespace sensorgate::uplink {

/// A CURVE key pair as Z85 text (40 characters each, no terminator).
struct CurveKeyPair {
  std::string public_z85;
  std::string secret_z85;
};

/// Allowed client public keys (Z85) → name ("" when the allow-list line gave none).
using CurveAllowList = std::map<std::string, std::string, std::less<>>;

/// True for an endpoint whose traffic never leaves the machine (tcp:// on 127.0.0.0/8,
/// localhost or [::1]; ipc://; inproc://). Elsewhere plaintext must be asked for.
bool is_loopback_endpoint(std::string_view endpoint);

/// A fresh key pair from libzmq (zmq_curve_keypair). Throws std::runtime_error when this
/// libzmq was built without CURVE (zmq_has("curve") is false).
CurveKeyPair generate_curve_keypair();

/// True when `text` is exactly 40 Z85 characters that decode to a 32-byte key.
bool is_curve_key_z85(std::string_view text);

/// `<dir>/<name>.curve.pub` and `<dir>/<name>.curve.key`.
std::filesystem::path curve_public_key_path(const std::filesystem::path& dir, std::string_view name);
std::filesystem::path curve_secret_key_path(const std::filesystem::path& dir, std::string_view name);

/// Generates a key pair and writes it to `<name>.curve.pub` (the public key, one line) and
/// `<name>.curve.key` (the secret key, one line, created with mode 0600 before anything is
/// written) in `dir`, which is created when missing. Refuses to overwrite either file and
/// leaves nothing behind on failure. Returns the pair. Throws std::runtime_error naming the
/// file on any failure, std::invalid_argument for a name that is not a plain file name.
CurveKeyPair write_curve_keypair(const std::filesystem::path& dir, std::string_view name);

/// Reads a public key file. Throws std::runtime_error naming the file and what is wrong
/// (missing or unreadable, not 40 Z85 characters).
std::string read_curve_public_key(const std::filesystem::path& path);

/// Reads a secret key file; as read_curve_public_key, and also refuses a file that group
/// or others may access (the message says to chmod 600 it).
std::string read_curve_secret_key(const std::filesystem::path& path);

/// Reads a secret key file (as read_curve_secret_key) and derives its public key
/// (zmq_curve_public), so a process needs only the one file.
CurveKeyPair read_curve_keypair(const std::filesystem::path& secret_path);

/// Reads an allow-list: one client public key per line, optionally followed by whitespace
/// and a name (`<key> gw-ward-3`) and then an optional `# comment`. Blank lines and lines
/// starting with `#` are comments. (`#` is a Z85 digit, but no 32-byte key's encoding
/// starts with it: its leading group would exceed 2^32 - 1.) A malformed key, extra text
/// after the name or a key listed twice throws std::runtime_error naming `file:line`.
CurveAllowList read_allow_list(const std::filesystem::path& path);

/// Makes `socket` a CURVE server with `server`'s secret key whose clients are
/// authenticated over ZAP in `zap_domain`; also asks libzmq to refuse every client when no
/// ZAP handler is bound (ZMQ_ZAP_ENFORCE_DOMAIN) rather than admit them all. Call before
/// bind. A ZapAuthenticator must run on the socket's context, or every client that knows
/// the server public key is admitted (on a libzmq without the enforce option) or none is.
/// Throws std::invalid_argument for a malformed key, std::runtime_error without CURVE.
void make_curve_server(zmq::socket_t& socket, const CurveKeyPair& server, std::string_view zap_domain);

/// Makes `socket` a CURVE client with its own key pair that accepts only the server whose
/// public key is `server_public_z85`. Call before connect. Throws as make_curve_server.
void make_curve_client(zmq::socket_t& socket, const CurveKeyPair& client, std::string_view server_public_z85);

struct ZapCounters {
  std::atomic<std::uint64_t> allowed{0};  ///< handshakes admitted (listed CURVE key)
  std::atomic<std::uint64_t> denied{0};   ///< handshakes refused (any other request)
};

/// The ZAP handler (RFC 27) of one context: binds inproc://zeromq.zap.01 and answers on its
/// own thread. A CURVE request whose client key is in the allow-list gets "200" with the
/// key's name (or, without one, the key) as user id, which the server sees as the
/// "User-Id" property of every message from that peer; anything else (an unlisted key,
/// another mechanism, another domain when one is set, a malformed request) gets "400".
/// Refusals are counted and logged (rate-limited: the peer address and refused key of the
/// first in each second, then how many more).
///
/// libzmq allows one ZAP handler per context, so this is one per context too: a second on
/// the same context throws std::runtime_error. Construct it before the server socket
/// binds, and destroy it before its context (declare it after the context), since
/// zmq_ctx_term waits for this object's sockets.
class ZapAuthenticator {
 public:
  /// Binds the handler and starts its thread. With a non-empty `domain`, requests from
  /// sockets in other ZAP domains are refused. Throws std::runtime_error when another ZAP
  /// handler is bound on `context`.
  ZapAuthenticator(zmq::context_t& context, CurveAllowList allow_list, std::string domain = {});
  ~ZapAuthenticator();  ///< stop()
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;
  ZapAuthenticator(ZapAuthenticator&&) = delete;
  ZapAuthenticator& operator=(ZapAuthenticator&&) = delete;

  /// Replaces the allow-list; handshakes from then on use the new one (connections already
  /// admitted stay up). Safe from any thread.
  void set_allow_list(CurveAllowList allow_list);

  /// Stops the thread and unbinds the handler; idempotent, safe from any thread. Afterwards
  /// new handshakes on CURVE servers of this context fail (see make_curve_server).
  void stop();

  [[nodiscard]] const ZapCounters& counters() const { return counters_; }

 private:
  void run();
  /// The reply frames' status code and user id for one request.
  struct Decision {
    bool allowed = false;
    std::string user_id;
    std::string name;     ///< the allow-list name, "" when none
    std::string reason;   ///< why it was refused, for the log
    std::string key_z85;  ///< the client's key, "" when the request carried none
  };
  Decision decide(std::string_view version, std::string_view domain, std::string_view mechanism,
                  const zmq::message_t* credentials) const;
  void note_denied(const Decision& decision, std::string_view address);

  zmq::socket_t handler_;      ///< REP on inproc://zeromq.zap.01; used by the thread only
  zmq::socket_t control_in_;   ///< PAIR the thread polls for the stop signal
  zmq::socket_t control_out_;  ///< PAIR stop() writes to, under stop_mutex_
  std::string domain_;
  mutable std::mutex allow_mutex_;
  std::shared_ptr<const CurveAllowList> allow_list_;  ///< guarded by allow_mutex_
  ZapCounters counters_;
  std::mutex stop_mutex_;
  std::thread thread_;
  // Rate limit of the refusal warning; touched by the thread only.
  std::chrono::steady_clock::time_point last_warning_{};
  std::uint64_t unlogged_denials_ = 0;
};

}  // namespace sensorgate::uplink
