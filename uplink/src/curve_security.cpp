#include "sensorgate/uplink/curve_security.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace sensorgate::uplink {
namespace {

constexpr std::size_t kKeyZ85Size = 40;
constexpr std::size_t kKeyBytes = 32;
constexpr std::string_view kZapEndpoint = "inproc://zeromq.zap.01";
constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
// A key file is one short line; anything much longer is the wrong file, so reading stops.
constexpr std::size_t kMaxKeyFileBytes = 4096;
// ZMQ_ZAP_ENFORCE_DOMAIN is behind ZMQ_BUILD_DRAFT_API in the 4.3 header, but the option
// number is stable and libzmq accepts it; without it a CURVE server admits every client
// when no ZAP handler is bound.
constexpr int kZapEnforceDomain = 93;

void require_curve() {
  if (zmq_has("curve") == 0) {
    throw std::runtime_error("this libzmq was built without CURVE security (zmq_has(\"curve\") is false)");
  }
}

/// Why `text` is not a Z85 key, or "" when it is one. Never quotes the text, which may be
/// a secret key.
std::string z85_key_problem(std::string_view text) {
  if (text.size() != kKeyZ85Size) {
    return "expected a " + std::to_string(kKeyZ85Size) + "-character Z85 key, found " + std::to_string(text.size()) +
           " characters";
  }
  for (std::size_t group = 0; group < kKeyZ85Size; group += 5) {
    // Five Z85 digits encode four bytes; a group above 2^32 - 1 is not a valid encoding.
    std::uint64_t value = 0;
    for (std::size_t i = group; i < group + 5; ++i) {
      const auto digit = kZ85Alphabet.find(text[i]);
      if (digit == std::string_view::npos) {
        return "character " + std::to_string(i + 1) + " is not in the Z85 alphabet";
      }
      value = value * 85 + digit;
    }
    if (value > 0xFFFFFFFFULL)
      return "characters " + std::to_string(group + 1) + "-" + std::to_string(group + 5) + " are not a valid Z85 group";
  }
  return {};
}

void require_key(std::string_view text, std::string_view what) {
  if (auto problem = z85_key_problem(text); !problem.empty()) {
    throw std::invalid_argument(std::string(what) + ": " + problem);
  }
}

std::string public_of(const std::string& secret_z85) {
  std::array<char, kKeyZ85Size + 1> public_key{};
  if (zmq_curve_public(public_key.data(), secret_z85.c_str()) != 0) {
    throw std::runtime_error(std::string("zmq_curve_public failed: ") + zmq_strerror(zmq_errno()));
  }
  return {public_key.data(), kKeyZ85Size};
}

/// The public key to put on a socket: derived from the secret, and when the pair carries
/// one too, it must be the same (a mismatch is a mix-up of key files).
std::string checked_public(const CurveKeyPair& pair, std::string_view what) {
  require_key(pair.secret_z85, std::string(what) + " secret key");
  auto derived = public_of(pair.secret_z85);
  if (!pair.public_z85.empty() && pair.public_z85 != derived) {
    throw std::invalid_argument(std::string(what) + " public key " + pair.public_z85 +
                                " does not belong to its secret key (that would be " + derived + ")");
  }
  return derived;
}

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

/// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&&) = delete;
  Fd& operator=(Fd&&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

enum class KeyKind : std::uint8_t { kPublic, kSecret };

/// Reads a key file and returns its one key. The permission check of a secret file is on
/// the opened descriptor, so the file checked is the file read.
std::string read_key_file(const std::filesystem::path& path, KeyKind kind) {
  const std::string what = std::string(kind == KeyKind::kSecret ? "CURVE secret key file " : "CURVE public key file ") +
                           path.string() + ": ";
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    throw std::runtime_error(what + (err == ENOENT ? "missing" : "cannot be opened: " + errno_text(err)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw std::runtime_error(what + "cannot stat: " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(what + "not a regular file");
  if (kind == KeyKind::kSecret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    std::array<char, 8> mode{};
    std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error(what + "group or others may access it (mode " + mode.data() +
                             "); a secret key must be private to its owner: chmod 600 " + path.string());
  }
  std::string text(kMaxKeyFileBytes + 1, '\0');
  std::size_t size = 0;
  while (size < text.size()) {
    const auto n = ::read(fd.get(), text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(what + "cannot be read: " + errno_text(errno));
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxKeyFileBytes) throw std::runtime_error(what + "too large to be a key file (one 40-character line)");
  text.resize(size);

  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string::npos) throw std::runtime_error(what + "empty; expected a 40-character Z85 key");
  const auto last = text.find_last_not_of(kSpace);
  std::string key = text.substr(first, last - first + 1);
  sodium_memzero(text.data(), text.size());  // one copy of a secret in memory, not two
  if (key.find_first_of(kSpace) != std::string::npos) {
    throw std::runtime_error(what + "expected one 40-character Z85 key on one line, found more than one word");
  }
  if (auto problem = z85_key_problem(key); !problem.empty()) throw std::runtime_error(what + problem);
  return key;
}

/// Creates `path` (which must not exist) with `mode` and writes `text` to it, synced.
/// Throws std::runtime_error naming the file; removes what it created on failure.
void write_new_file(const std::filesystem::path& path, std::string_view text, mode_t mode) {
  // O_EXCL: never overwrite, never follow a planted symlink. The mode is applied at
  // creation, so a secret is never readable by others, not even before the first write.
  const Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    const int err = errno;
    throw std::runtime_error(
        path.string() + ": " +
        (err == EEXIST ? "exists; refusing to overwrite a key file" : "cannot create: " + errno_text(err)));
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::unlink(path.c_str());
      throw std::runtime_error(path.string() + ": cannot write: " + errno_text(err));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    throw std::runtime_error(path.string() + ": cannot sync: " + errno_text(err));
  }
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

/// Splits off the first whitespace-separated word of `text` (already trimmed on the left).
std::string_view take_word(std::string_view& text) {
  const auto end = text.find_first_of(" \t");
  const auto word = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view{} : trim(text.substr(end));
  return word;
}

std::string to_string(const zmq::message_t& frame) {
  return {static_cast<const char*>(frame.data()), frame.size()};
}

/// A process-unique inproc name for an authenticator's control pair: an inproc name may
/// stay taken for a moment after its socket closes, so names are never reused.
std::string next_control_endpoint() {
  static std::atomic<std::uint64_t> next{0};
  return "inproc://sensorgate.zap-control." + std::to_string(next.fetch_add(1));
}

}  // namespace

CurveKeyPair generate_curve_keypair() {
  require_curve();
  std::array<char, kKeyZ85Size + 1> public_key{};
  std::array<char, kKeyZ85Size + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    throw std::runtime_error(std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  }
  CurveKeyPair pair{{public_key.data(), kKeyZ85Size}, {secret_key.data(), kKeyZ85Size}};
  // The stack copy of the secret is not needed any more; the string is the one copy.
  // (sodium_memzero: a plain fill of a dead buffer may be optimised away.)
  sodium_memzero(secret_key.data(), secret_key.size());
  return pair;
}

bool is_curve_key_z85(std::string_view text) {
  return z85_key_problem(text).empty();
}

std::filesystem::path curve_public_key_path(const std::filesystem::path& dir, std::string_view name) {
  return dir / (std::string(name) + ".curve.pub");
}

std::filesystem::path curve_secret_key_path(const std::filesystem::path& dir, std::string_view name) {
  return dir / (std::string(name) + ".curve.key");
}

CurveKeyPair write_curve_keypair(const std::filesystem::path& dir, std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("CURVE key name '" + std::string(name) + "' is not a plain file name");
  }
  const auto public_path = curve_public_key_path(dir, name);
  const auto secret_path = curve_secret_key_path(dir, name);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir.string() + ": cannot create the key directory: " + ec.message());
  // Checked up front so that neither file is touched when either exists; O_EXCL below
  // still catches a file that appears in between.
  for (const auto& path : {public_path, secret_path}) {
    if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
      throw std::runtime_error(path.string() + ": exists; refusing to overwrite a key file");
    }
  }
  auto pair = generate_curve_keypair();
  write_new_file(secret_path, pair.secret_z85 + "\n", 0600);
  try {
    write_new_file(public_path, pair.public_z85 + "\n", 0644);
  } catch (...) {
    std::filesystem::remove(secret_path, ec);  // no half-written pair left behind
    throw;
  }
  return pair;
}

std::string read_curve_public_key(const std::filesystem::path& path) {
  return read_key_file(path, KeyKind::kPublic);
}

std::string read_curve_secret_key(const std::filesystem::path& path) {
  return read_key_file(path, KeyKind::kSecret);
}

CurveKeyPair read_curve_keypair(const std::filesystem::path& secret_path) {
  require_curve();
  CurveKeyPair pair;
  pair.secret_z85 = read_curve_secret_key(secret_path);
  pair.public_z85 = public_of(pair.secret_z85);
  return pair;
}

CurveAllowList read_allow_list(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("CURVE allow-list " + path.string() + ": " +
                             (std::filesystem::exists(path) ? "cannot be read" : "missing"));
  }
  CurveAllowList list;
  std::map<std::string, std::size_t, std::less<>> first_line;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const auto where = path.string() + ":" + std::to_string(number) + ": ";
    auto rest = trim(line);
    if (rest.empty() || rest.front() == '#') continue;
    const auto key = take_word(rest);
    if (auto problem = z85_key_problem(key); !problem.empty()) throw std::runtime_error(where + problem);
    std::string name;
    if (!rest.empty() && rest.front() != '#') {
      name = take_word(rest);
      if (!rest.empty() && rest.front() != '#') {
        throw std::runtime_error(
            fmt::format("{}unexpected text after the name '{}' (expected: <key> [name] [# comment])", where, name));
      }
    }
    if (const auto seen = first_line.find(key); seen != first_line.end()) {
      throw std::runtime_error(where + "key " + std::string(key) + " is already listed on line " +
                               std::to_string(seen->second));
    }
    first_line.emplace(key, number);
    list.emplace(key, std::move(name));
  }
  if (in.bad()) throw std::runtime_error("CURVE allow-list " + path.string() + ": read error");
  return list;
}

void make_curve_server(zmq::socket_t& socket, const CurveKeyPair& server, std::string_view zap_domain) {
  require_curve();
  checked_public(server, "CURVE server");
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, server.secret_z85);
  socket.set(zmq::sockopt::zap_domain, zap_domain);
  const int on = 1;
  if (zmq_setsockopt(socket.handle(), kZapEnforceDomain, &on, sizeof(on)) != 0) {
    spdlog::warn(
        "curve: this libzmq lacks ZMQ_ZAP_ENFORCE_DOMAIN: without a running ZapAuthenticator the "
        "CURVE server would admit every client that knows its public key");
  }
}

void make_curve_client(zmq::socket_t& socket, const CurveKeyPair& client, std::string_view server_public_z85) {
  require_curve();
  const auto client_public = checked_public(client, "CURVE client");
  require_key(server_public_z85, "CURVE server public key");
  socket.set(zmq::sockopt::curve_serverkey, server_public_z85);
  socket.set(zmq::sockopt::curve_publickey, client_public);
  socket.set(zmq::sockopt::curve_secretkey, client.secret_z85);
}

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, CurveAllowList allow_list, std::string domain)
    : handler_(context, zmq::socket_type::rep),
      control_in_(context, zmq::socket_type::pair),
      control_out_(context, zmq::socket_type::pair),
      domain_(std::move(domain)),
      allow_list_(std::make_shared<const CurveAllowList>(std::move(allow_list))) {
  handler_.set(zmq::sockopt::linger, 0);
  try {
    handler_.bind(std::string(kZapEndpoint));
  } catch (const zmq::error_t& e) {
    if (e.num() == EADDRINUSE) {
      throw std::runtime_error(
          "a ZAP handler is already bound on this ZeroMQ context (one ZapAuthenticator per context)");
    }
    throw std::runtime_error(std::string("cannot bind the ZAP handler: ") + e.what());
  }
  // A control pair rather than a poll timeout: stop() wakes the thread at once.
  const auto control = next_control_endpoint();
  control_in_.bind(control);
  control_out_.connect(control);
  thread_ = std::thread([this] { run(); });
}

ZapAuthenticator::~ZapAuthenticator() {
  try {
    stop();
  } catch (const std::exception& e) {
    // Only a terminated context gets here (the authenticator outlived it); nothing to do.
    spdlog::error("zap: stopping the authenticator failed: {}", e.what());
  }
}

void ZapAuthenticator::set_allow_list(CurveAllowList allow_list) {
  auto fresh = std::make_shared<const CurveAllowList>(std::move(allow_list));
  const std::lock_guard lock(allow_mutex_);
  allow_list_ = std::move(fresh);
}

void ZapAuthenticator::stop() {
  const std::lock_guard lock(stop_mutex_);
  if (!thread_.joinable()) return;
  control_out_.send(zmq::str_buffer("stop"), zmq::send_flags::none);
  thread_.join();
  // Unbound explicitly (not left to the asynchronous close) so that a new authenticator
  // can bind the ZAP endpoint on this context right away.
  try {
    handler_.unbind(std::string(kZapEndpoint));
  } catch (const zmq::error_t& e) {
    spdlog::debug("zap: unbind: {}", e.what());
  }
  handler_.close();
  control_in_.close();
  control_out_.close();
}

ZapAuthenticator::Decision ZapAuthenticator::decide(std::string_view version, std::string_view domain,
                                                    std::string_view mechanism,
                                                    const zmq::message_t* credentials) const {
  Decision d;
  // The key first, so that every refusal of a CURVE peer can name it in the log.
  if (mechanism == "CURVE" && credentials != nullptr && credentials->size() == kKeyBytes) {
    std::array<char, kKeyZ85Size + 1> key{};
    zmq_z85_encode(key.data(), static_cast<const std::uint8_t*>(credentials->data()), kKeyBytes);
    d.key_z85.assign(key.data(), kKeyZ85Size);
  }
  if (version != "1.0") {
    d.reason = "unsupported ZAP version";
    return d;
  }
  if (!domain_.empty() && domain != domain_) {
    d.reason = "ZAP domain '" + std::string(domain) + "' is not '" + domain_ + "'";
    return d;
  }
  if (mechanism != "CURVE") {
    d.reason = "mechanism " + (mechanism.empty() ? std::string("(none)") : std::string(mechanism)) + " is not CURVE";
    return d;
  }
  if (d.key_z85.empty()) {
    d.reason = "malformed CURVE credentials";
    return d;
  }
  std::shared_ptr<const CurveAllowList> list;
  {
    const std::lock_guard lock(allow_mutex_);
    list = allow_list_;
  }
  const auto found = list->find(d.key_z85);
  if (found == list->end()) {
    d.reason = "key not in the allow-list";
    return d;
  }
  d.name = found->second;
  d.allowed = true;
  d.user_id = d.name.empty() ? d.key_z85 : d.name;
  return d;
}

void ZapAuthenticator::note_denied(const Decision& decision, std::string_view address) {
  counters_.denied.fetch_add(1, std::memory_order_relaxed);
  // A refused client reconnects every reconnect_ivl (100 ms by default), so one line per
  // second with a count of the rest keeps the log readable and still names a culprit.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_warning_ < std::chrono::seconds(1)) {
    ++unlogged_denials_;
    return;
  }
  spdlog::warn("zap: refused a connection from {} (key {}): {}{}", address,
               decision.key_z85.empty() ? "-" : decision.key_z85, decision.reason,
               unlogged_denials_ == 0 ? std::string()
                                      : fmt::format(" ({} more refused since the last warning)", unlogged_denials_));
  last_warning_ = now;
  unlogged_denials_ = 0;
}

void ZapAuthenticator::run() {
  try {
    std::array<zmq::pollitem_t, 2> items{{{control_in_.handle(), 0, ZMQ_POLLIN, 0},  //
                                          {handler_.handle(), 0, ZMQ_POLLIN, 0}}};
    while (true) {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
      if ((items[0].revents & ZMQ_POLLIN) != 0) return;
      if ((items[1].revents & ZMQ_POLLIN) == 0) continue;

      // RFC 27 request: version, request id, domain, address, identity, mechanism,
      // credentials (CURVE: one frame, the client's 32-byte public key).
      std::vector<zmq::message_t> request;
      if (!zmq::recv_multipart(handler_, std::back_inserter(request), zmq::recv_flags::dontwait)) continue;
      Decision decision;
      std::string address;
      if (request.size() < 6) {
        decision.reason = "malformed ZAP request";
      } else {
        address = to_string(request[3]);
        decision = decide(to_string(request[0]), to_string(request[2]), to_string(request[5]),
                          request.size() > 6 ? &request[6] : nullptr);
      }
      if (decision.allowed) {
        counters_.allowed.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("zap: admitted {} (key {}) from {}", decision.name.empty() ? "an unnamed client" : decision.name,
                     decision.key_z85, address);
      } else {
        note_denied(decision, address.empty() ? "?" : address);
      }

      // RFC 27 reply: version, request id, status code, status text, user id, metadata.
      std::array<zmq::message_t, 6> reply{
          zmq::message_t(std::string_view("1.0")),
          request.size() > 1 ? zmq::message_t(request[1].data(), request[1].size()) : zmq::message_t(),
          zmq::message_t(std::string_view(decision.allowed ? "200" : "400")),
          zmq::message_t(std::string_view(decision.allowed ? "OK" : "not allowed")),
          zmq::message_t(std::string_view(decision.user_id)),
          zmq::message_t()};
      zmq::send_multipart(handler_, reply);
    }
  } catch (const zmq::error_t& e) {
    // ETERM: the context is going away under us; anything else is a bug in libzmq use.
    // Either way no reply is sent, so pending handshakes fail rather than pass.
    if (e.num() != ETERM) spdlog::error("zap: the authenticator stopped: {}", e.what());
  } catch (const std::exception& e) {
    spdlog::error("zap: the authenticator stopped: {}", e.what());
  }
}

bool is_loopback_endpoint(std::string_view endpoint) {
  constexpr std::array<std::string_view, 5> kLocal{"ipc://", "inproc://", "tcp://127.",
                                                   "tcp://localhost:", "tcp://[::1]:"};
  return std::ranges::any_of(kLocal, [&](std::string_view local) { return endpoint.starts_with(local); });
}

}  // namespace sensorgate::uplink
