#include "sensorgate/uplink/curve_security.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <zmq_addon.hpp>

#include <array>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate::uplink {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view kDomain = "sensorgate-uplink";
// Long enough for a refused handshake to have had every chance to pass on loopback (an
// admitted one takes a few milliseconds), short enough to keep the suite quick.
constexpr auto kShortPoll = 300ms;
constexpr auto kPatience = 5s;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::filesystem::perms perms_of(const std::filesystem::path& path) {
  return std::filesystem::status(path).permissions();
}

/// Every message frame of the next multipart message within `timeout`, or none.
std::vector<std::string> receive_within(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  std::array<zmq::pollitem_t, 1> item{{{socket.handle(), 0, ZMQ_POLLIN, 0}}};
  if (zmq::poll(item.data(), item.size(), timeout) <= 0) return {};
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) return {};
  std::vector<std::string> out;
  out.reserve(frames.size());
  for (const auto& f : frames) out.push_back(f.to_string());
  return out;
}

/// The "User-Id" property libzmq attaches to a message from the ZAP reply ("" when none).
/// (zmq_msg_gets rather than message_t::gets, which clang-tidy mistakes for C's gets.)
std::string user_id_of(zmq::message_t& message) {
  const char* value = zmq_msg_gets(message.handle(), "User-Id");
  return value == nullptr ? std::string() : std::string(value);
}

/// Handshake events of one socket (zmq_socket_monitor), so a test sees that a refused
/// peer did reach the server and was turned away, rather than never having connected.
class HandshakeMonitor {
 public:
  HandshakeMonitor(zmq::context_t& context, zmq::socket_t& socket) : events_(context, zmq::socket_type::pair) {
    static std::atomic<int> next{0};
    const auto endpoint = "inproc://test-monitor." + std::to_string(next.fetch_add(1));
    const int rc = zmq_socket_monitor(socket.handle(), endpoint.c_str(),
                                      ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    EXPECT_EQ(rc, 0);
    events_.set(zmq::sockopt::linger, 0);
    events_.connect(endpoint);
  }

  /// The next event id within `timeout`, 0 when none came.
  int next_event(std::chrono::milliseconds timeout) {
    const auto frames = receive_within(events_, timeout);
    if (frames.size() != 2 || frames[0].size() < sizeof(std::uint16_t)) return 0;
    std::uint16_t event = 0;
    std::memcpy(&event, frames[0].data(), sizeof(event));
    return event;
  }

 private:
  zmq::socket_t events_;
};

/// A CURVE ROUTER on 127.0.0.1 with an authenticator on its context that lists `allowed`.
class CurveServer {
 public:
  explicit CurveServer(CurveAllowList allowed, std::string auth_domain = {})
      : keys_(generate_curve_keypair()),
        auth_(std::make_unique<ZapAuthenticator>(context_, std::move(allowed), std::move(auth_domain))),
        socket_(context_, zmq::socket_type::router),
        monitor_(context_, socket_) {
    socket_.set(zmq::sockopt::linger, 0);
    make_curve_server(socket_, keys_, kDomain);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }

  zmq::context_t& context() { return context_; }
  [[nodiscard]] const CurveKeyPair& keys() const { return keys_; }
  ZapAuthenticator& auth() { return *auth_; }
  zmq::socket_t& socket() { return socket_; }
  HandshakeMonitor& monitor() { return monitor_; }
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }

  /// A DEALER in this server's context that is a CURVE client with `client` keys and
  /// `server_public` as the server key (plaintext when `client` is null), connected.
  zmq::socket_t client(const CurveKeyPair* client, const std::string& server_public) {
    zmq::socket_t s(context_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);  // refused clients keep their message; don't wait at exit
    if (client != nullptr) make_curve_client(s, *client, server_public);
    s.connect(endpoint_);
    return s;
  }

 private:
  zmq::context_t context_;  // first: destroyed last, after every socket of this server
  CurveKeyPair keys_;
  std::unique_ptr<ZapAuthenticator> auth_;
  zmq::socket_t socket_;
  HandshakeMonitor monitor_;
  std::string endpoint_;
};

// --- Handshakes over real TCP on loopback ---

TEST(ZapAuthenticator, ListedClient_ExchangesBothWays_UserIdIsItsName) {
  const auto client_keys = generate_curve_keypair();
  CurveServer server({{client_keys.public_z85, "gw-ward-3"}});
  auto client = server.client(&client_keys, server.keys().public_z85);

  client.send(zmq::str_buffer("summary"), zmq::send_flags::none);
  std::vector<zmq::message_t> frames;
  std::array<zmq::pollitem_t, 1> item{{{server.socket().handle(), 0, ZMQ_POLLIN, 0}}};
  ASSERT_EQ(zmq::poll(item.data(), item.size(), std::chrono::milliseconds(kPatience)), 1);
  ASSERT_TRUE(zmq::recv_multipart(server.socket(), std::back_inserter(frames)));
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[1].to_string(), "summary");
  // The ZAP reply's user id reaches the server with every message of the connection.
  EXPECT_EQ(user_id_of(frames[1]), "gw-ward-3");

  // The model push direction: server → client on the same connection.
  std::array<zmq::message_t, 2> reply{zmq::message_t(frames[0].data(), frames[0].size()),
                                      zmq::message_t(std::string_view("model"))};
  zmq::send_multipart(server.socket(), reply);
  EXPECT_EQ(receive_within(client, kPatience), std::vector<std::string>{"model"});

  EXPECT_EQ(server.auth().counters().allowed.load(), 1U);
  EXPECT_EQ(server.auth().counters().denied.load(), 0U);
}

TEST(ZapAuthenticator, ListedClientWithoutName_UserIdIsItsKey) {
  const auto client_keys = generate_curve_keypair();
  CurveServer server({{client_keys.public_z85, ""}});
  auto client = server.client(&client_keys, server.keys().public_z85);
  client.send(zmq::str_buffer("x"), zmq::send_flags::none);

  std::vector<zmq::message_t> frames;
  std::array<zmq::pollitem_t, 1> item{{{server.socket().handle(), 0, ZMQ_POLLIN, 0}}};
  ASSERT_EQ(zmq::poll(item.data(), item.size(), std::chrono::milliseconds(kPatience)), 1);
  ASSERT_TRUE(zmq::recv_multipart(server.socket(), std::back_inserter(frames)));
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(user_id_of(frames[1]), client_keys.public_z85);
}

TEST(ZapAuthenticator, UnlistedClient_NothingThrough_DeniedCounted) {
  const auto listed = generate_curve_keypair();
  const auto stranger = generate_curve_keypair();
  CurveServer server({{listed.public_z85, "gw-1"}});
  auto client = server.client(&stranger, server.keys().public_z85);
  client.send(zmq::str_buffer("let me in"), zmq::send_flags::none);

  EXPECT_EQ(server.monitor().next_event(kPatience), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  EXPECT_TRUE(testing::wait_until([&] { return server.auth().counters().denied.load() >= 1; }, kPatience));
  EXPECT_TRUE(receive_within(server.socket(), kShortPoll).empty());
  EXPECT_EQ(server.auth().counters().allowed.load(), 0U);
}

TEST(MakeCurveServer, PlaintextClient_NothingThrough) {
  const auto listed = generate_curve_keypair();
  CurveServer server({{listed.public_z85, "gw-1"}});
  auto client = server.client(nullptr, {});
  client.send(zmq::str_buffer("plaintext"), zmq::send_flags::none);

  const int event = server.monitor().next_event(kPatience);
  EXPECT_TRUE(event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
      << "event " << event;
  EXPECT_TRUE(receive_within(server.socket(), kShortPoll).empty());
  EXPECT_EQ(server.auth().counters().allowed.load(), 0U);
}

TEST(MakeCurveClient, WrongServerPublicKey_NothingThrough) {
  const auto listed = generate_curve_keypair();
  const auto impostor = generate_curve_keypair();
  CurveServer server({{listed.public_z85, "gw-1"}});
  // A listed client that expects another server: its HELLO cannot be opened by this one.
  auto client = server.client(&listed, impostor.public_z85);
  client.send(zmq::str_buffer("for someone else"), zmq::send_flags::none);

  const int event = server.monitor().next_event(kPatience);
  EXPECT_TRUE(event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
      << "event " << event;
  EXPECT_TRUE(receive_within(server.socket(), kShortPoll).empty());
  EXPECT_EQ(server.auth().counters().allowed.load(), 0U);
}

TEST(ZapAuthenticator, OtherZapDomain_Refused) {
  const auto listed = generate_curve_keypair();
  CurveServer server({{listed.public_z85, "gw-1"}}, "some-other-domain");
  auto client = server.client(&listed, server.keys().public_z85);
  client.send(zmq::str_buffer("x"), zmq::send_flags::none);

  EXPECT_TRUE(testing::wait_until([&] { return server.auth().counters().denied.load() >= 1; }, kPatience));
  EXPECT_TRUE(receive_within(server.socket(), kShortPoll).empty());
}

TEST(ZapAuthenticator, SetAllowList_KeyRemoved_NextConnectionRefused) {
  const auto keys = generate_curve_keypair();
  CurveServer server({{keys.public_z85, "gw-1"}});
  {
    auto first = server.client(&keys, server.keys().public_z85);
    first.send(zmq::str_buffer("before"), zmq::send_flags::none);
    EXPECT_EQ(receive_within(server.socket(), kPatience).size(), 2U);
  }
  server.auth().set_allow_list({});
  auto second = server.client(&keys, server.keys().public_z85);
  second.send(zmq::str_buffer("after"), zmq::send_flags::none);
  EXPECT_TRUE(testing::wait_until([&] { return server.auth().counters().denied.load() >= 1; }, kPatience));
  EXPECT_TRUE(receive_within(server.socket(), kShortPoll).empty());
  EXPECT_EQ(server.auth().counters().allowed.load(), 1U);
}

TEST(MakeCurveServer, NoAuthenticatorRunning_ClientRefused) {
  // Fail closed: once the authenticator is stopped, ZMQ_ZAP_ENFORCE_DOMAIN makes the
  // server refuse a listed client instead of admitting everyone.
  const auto keys = generate_curve_keypair();
  CurveServer server({{keys.public_z85, "gw-1"}});
  server.auth().stop();
  auto client = server.client(&keys, server.keys().public_z85);
  client.send(zmq::str_buffer("x"), zmq::send_flags::none);

  EXPECT_NE(server.monitor().next_event(kPatience), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
  EXPECT_TRUE(receive_within(server.socket(), kShortPoll).empty());
}

TEST(ZapAuthenticator, SecondOnSameContext_Throws) {
  zmq::context_t context;
  ZapAuthenticator first(context, {});
  EXPECT_THAT(error_of([&] { ZapAuthenticator second(context, {}); }), HasSubstr("one ZapAuthenticator per context"));
}

TEST(ZapAuthenticator, Stop_ThenNewOnSameContext_BindsAndStopsAgain) {
  zmq::context_t context;
  auto first = std::make_unique<ZapAuthenticator>(context, CurveAllowList{});
  first->stop();
  first->stop();  // idempotent
  EXPECT_NO_THROW({ ZapAuthenticator second(context, {}); });
  first.reset();
}

// --- Keys and key files ---

TEST(GenerateCurveKeypair, TwoCalls_DistinctValidKeys) {
  const auto a = generate_curve_keypair();
  const auto b = generate_curve_keypair();
  EXPECT_TRUE(is_curve_key_z85(a.public_z85));
  EXPECT_TRUE(is_curve_key_z85(a.secret_z85));
  EXPECT_NE(a.public_z85, b.public_z85);
  EXPECT_NE(a.secret_z85, b.secret_z85);
}

TEST(IsCurveKeyZ85, MalformedText_False) {
  const auto good = generate_curve_keypair().public_z85;
  EXPECT_TRUE(is_curve_key_z85(good));
  EXPECT_FALSE(is_curve_key_z85(good.substr(1)));
  EXPECT_FALSE(is_curve_key_z85(good + "0"));
  EXPECT_FALSE(is_curve_key_z85(std::string(39, '0') + "~"));  // '~' is not Z85
  EXPECT_FALSE(is_curve_key_z85(std::string(40, '#')));        // 85^5 - 1 > 2^32 - 1
}

TEST(WriteCurveKeypair, RoundTrip_SameKeysAndSecretIsOwnerOnly) {
  testing::TempDir dir;
  const auto keys_dir = dir.path() / "keys";
  const auto written = write_curve_keypair(keys_dir, "gw-ward-3");

  const auto pub = curve_public_key_path(keys_dir, "gw-ward-3");
  const auto key = curve_secret_key_path(keys_dir, "gw-ward-3");
  EXPECT_EQ(pub.filename(), "gw-ward-3.curve.pub");
  EXPECT_EQ(key.filename(), "gw-ward-3.curve.key");
  EXPECT_EQ(testing::read_file(pub), written.public_z85 + "\n");
  EXPECT_EQ(testing::read_file(key), written.secret_z85 + "\n");
  EXPECT_EQ(perms_of(key), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  EXPECT_EQ(read_curve_public_key(pub), written.public_z85);
  EXPECT_EQ(read_curve_secret_key(key), written.secret_z85);
  const auto derived = read_curve_keypair(key);
  EXPECT_EQ(derived.public_z85, written.public_z85);
  EXPECT_EQ(derived.secret_z85, written.secret_z85);
}

TEST(WriteCurveKeypair, FileExists_RefusesAndKeepsIt) {
  testing::TempDir dir;
  const auto first = write_curve_keypair(dir.path(), "collector");
  EXPECT_THAT(error_of([&] { write_curve_keypair(dir.path(), "collector"); }), HasSubstr("refusing to overwrite"));
  EXPECT_EQ(read_curve_keypair(curve_secret_key_path(dir.path(), "collector")).public_z85, first.public_z85);

  // Only the public file there (say, copied in by hand): still refused, and no secret made.
  testing::TempDir other;
  write_text(curve_public_key_path(other.path(), "gw"), first.public_z85 + "\n");
  EXPECT_THAT(error_of([&] { write_curve_keypair(other.path(), "gw"); }), HasSubstr("gw.curve.pub"));
  EXPECT_FALSE(std::filesystem::exists(curve_secret_key_path(other.path(), "gw")));
}

TEST(WriteCurveKeypair, NameWithSlash_Throws) {
  testing::TempDir dir;
  EXPECT_THROW(write_curve_keypair(dir.path(), "../escape"), std::invalid_argument);
  EXPECT_THROW(write_curve_keypair(dir.path(), ""), std::invalid_argument);
}

TEST(ReadCurveSecretKey, GroupOrWorldAccessible_RefusedWithChmodHint) {
  testing::TempDir dir;
  write_curve_keypair(dir.path(), "gw");
  const auto key = curve_secret_key_path(dir.path(), "gw");
  std::filesystem::permissions(key, std::filesystem::perms::others_read, std::filesystem::perm_options::add);

  const auto error = error_of([&] { read_curve_secret_key(key); });
  EXPECT_THAT(error, HasSubstr(key.string()));
  EXPECT_THAT(error, HasSubstr("0604"));
  EXPECT_THAT(error, HasSubstr("chmod 600"));
  EXPECT_THAT(error_of([&] { read_curve_keypair(key); }), HasSubstr("chmod 600"));

  std::filesystem::permissions(key, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  EXPECT_THAT(error_of([&] { read_curve_secret_key(key); }), HasSubstr("group or others"));
}

TEST(ReadCurvePublicKey, MalformedOrMissing_ErrorNamesFileAndProblem) {
  testing::TempDir dir;
  const auto good = generate_curve_keypair().public_z85;
  const auto file = dir.path() / "x.curve.pub";

  EXPECT_THAT(error_of([&] { read_curve_public_key(file); }), HasSubstr(file.string() + ": missing"));
  write_text(file, "");
  EXPECT_THAT(error_of([&] { read_curve_public_key(file); }), HasSubstr("empty"));
  write_text(file, good.substr(0, 39) + "\n");
  EXPECT_THAT(error_of([&] { read_curve_public_key(file); }), HasSubstr("found 39 characters"));
  write_text(file, good.substr(0, 39) + "~\n");
  EXPECT_THAT(error_of([&] { read_curve_public_key(file); }), HasSubstr("character 40 is not in the Z85 alphabet"));
  write_text(file, good + "\n" + good + "\n");
  EXPECT_THAT(error_of([&] { read_curve_public_key(file); }), HasSubstr("more than one word"));
  EXPECT_THAT(error_of([&] { read_curve_public_key(dir.path()); }), HasSubstr("not a regular file"));

  write_text(file, "  " + good + "\r\n");  // surrounding whitespace and CRLF are fine
  EXPECT_EQ(read_curve_public_key(file), good);
}

TEST(ReadCurveSecretKey, Malformed_ErrorDoesNotQuoteTheSecret) {
  testing::TempDir dir;
  const auto file = dir.path() / "gw.curve.key";
  const std::string almost = generate_curve_keypair().secret_z85.substr(0, 39) + "~";
  write_text(file, almost);
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto error = error_of([&] { read_curve_secret_key(file); });
  EXPECT_THAT(error, HasSubstr(file.string()));
  EXPECT_THAT(error, ::testing::Not(HasSubstr(almost.substr(0, 39))));
}

TEST(ReadAllowList, ValidFile_KeysNamesAndComments) {
  testing::TempDir dir;
  const auto a = generate_curve_keypair().public_z85;
  const auto b = generate_curve_keypair().public_z85;
  const auto c = generate_curve_keypair().public_z85;
  const auto file = dir.path() / "gateways.allow";
  write_text(file, "# gateways allowed to uplink\n\n" + a + " gw-ward-3\n  " + b + "\t# no name, a comment\n#" + c +
                       " gw-retired\n" + "   \n");

  const auto list = read_allow_list(file);
  EXPECT_EQ(list, (CurveAllowList{{a, "gw-ward-3"}, {b, ""}}));
}

TEST(IsCurveKeyZ85, LeadingHash_NeverAKey) {
  // Why a line starting with '#' can always be a comment: '#' is Z85's largest digit, and
  // a group led by it is above 2^32 - 1, so no key's encoding starts with it.
  EXPECT_FALSE(is_curve_key_z85("#" + std::string(39, '0')));
  EXPECT_TRUE(is_curve_key_z85("%nSc0" + std::string(35, '0')));  // the largest valid group
}

TEST(ReadAllowList, BadLines_ErrorNamesFileAndLine) {
  testing::TempDir dir;
  const auto a = generate_curve_keypair().public_z85;
  const auto file = dir.path() / "gateways.allow";

  write_text(file, "# header\n" + a + " gw-1\n" + a.substr(0, 30) + " gw-2\n");
  EXPECT_THAT(error_of([&] { read_allow_list(file); }), HasSubstr(file.string() + ":3: expected a 40-character"));

  write_text(file, a + " gw-1 and more\n");
  EXPECT_THAT(error_of([&] { read_allow_list(file); }), HasSubstr(file.string() + ":1: unexpected text"));

  write_text(file, a + " gw-1\n\n" + a + " gw-1-again\n");
  EXPECT_THAT(error_of([&] { read_allow_list(file); }),
              HasSubstr(file.string() + ":3: key " + a + " is already listed on line 1"));

  EXPECT_THAT(error_of([&] { read_allow_list(dir.path() / "absent"); }), HasSubstr("absent: missing"));
}

TEST(MakeCurveClient, BadKeys_ThrowBeforeAnySocketUse) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  auto mine = generate_curve_keypair();
  const auto server = generate_curve_keypair();

  EXPECT_THROW(make_curve_client(socket, mine, "short"), std::invalid_argument);
  auto mismatched = mine;
  mismatched.public_z85 = server.public_z85;
  EXPECT_THAT(error_of([&] { make_curve_client(socket, mismatched, server.public_z85); }),
              HasSubstr("does not belong to its secret key"));
  mine.secret_z85.pop_back();
  EXPECT_THROW(make_curve_server(socket, mine, kDomain), std::invalid_argument);
}

}  // namespace
}  // namespace sensorgate::uplink
