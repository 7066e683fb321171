// MQTT security and sessions on a real mosquitto: a TLS listener with certificates this
// test generates with the openssl CLI (a CA, a server certificate for 127.0.0.1/localhost,
// a client certificate for mutual TLS) and users from mosquitto_passwd; wrong credentials
// and an untrusted CA must end the gateway quickly with a message naming the cause; a
// persistent session must deliver what was published while the gateway was stopped; a
// broker restart must be survived by reconnecting.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kDevices = 2;
constexpr int kSeconds = 3;
constexpr int kChannels = 16;
constexpr std::int64_t kRowsPerRun = std::int64_t{kDevices} * kChannels * kSeconds;
constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr const char* kGatewayPassword = "gw-secret-1";
constexpr const char* kSimPassword = "sim-secret-2";

/// Runs a tool that must succeed; throws with its output otherwise.
void must_run(std::vector<std::string> argv) {
  std::string output;
  const std::string what = argv[0];
  if (const int rc = testing::run_program(std::move(argv), output, 60s); rc != 0) {
    throw std::runtime_error(what + " failed (" + std::to_string(rc) + "): " + output);
  }
}

/// A self-signed CA, or (with `ca`) a certificate signed by it for `subject_alt_names`.
void make_certificate(const fs::path& cert, const fs::path& key, const std::string& common_name,
                      const fs::path* ca = nullptr, const fs::path* ca_key = nullptr,
                      const std::string& subject_alt_names = "") {
  const std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  if (ca == nullptr) {
    std::vector<std::string> argv = {"/usr/bin/openssl", "req", "-x509"};
    argv.insert(argv.end(), new_key.begin(), new_key.end());
    argv.insert(argv.end(),
                {"-keyout", key.string(), "-out", cert.string(), "-days", "2", "-subj", "/CN=" + common_name});
    must_run(argv);
  } else {
    const fs::path csr = cert.string() + ".csr";
    const fs::path extensions = cert.string() + ".ext";
    std::ofstream(extensions) << (subject_alt_names.empty() ? "extendedKeyUsage=clientAuth\n"
                                                            : "subjectAltName=" + subject_alt_names + "\n");
    std::vector<std::string> argv = {"/usr/bin/openssl", "req"};
    argv.insert(argv.end(), new_key.begin(), new_key.end());
    argv.insert(argv.end(), {"-keyout", key.string(), "-out", csr.string(), "-subj", "/CN=" + common_name});
    must_run(argv);
    must_run({"/usr/bin/openssl", "x509", "-req", "-in", csr.string(), "-CA", ca->string(), "-CAkey", ca_key->string(),
              "-set_serial", "2", "-days", "2", "-out", cert.string(), "-extfile", extensions.string()});
  }
  // mosquitto started as root reads its files as the unprivileged "mosquitto" user.
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

/// Everything a TLS + password broker and its clients need, generated in `dir`.
struct TestPki {
  explicit TestPki(const fs::path& dir)
      : ca(dir / "ca.crt"),
        ca_key(dir / "ca.key"),
        server_cert(dir / "server.crt"),
        server_key(dir / "server.key"),
        client_cert(dir / "client.crt"),
        client_key(dir / "client.key"),
        other_ca(dir / "other-ca.crt"),
        passwd(dir / "passwd"),
        gateway_password(dir / "gateway.password"),
        sim_password(dir / "sim.password"),
        wrong_password(dir / "wrong.password") {
    make_certificate(ca, ca_key, "sensorgate test CA");
    make_certificate(server_cert, server_key, "localhost", &ca, &ca_key, "IP:127.0.0.1,DNS:localhost");
    make_certificate(client_cert, client_key, "sensorgate-test-client", &ca, &ca_key);
    make_certificate(other_ca, dir / "other-ca.key", "an unrelated CA");
    must_run({"/usr/bin/mosquitto_passwd", "-b", "-c", passwd.string(), "gateway", kGatewayPassword});
    must_run({"/usr/bin/mosquitto_passwd", "-b", passwd.string(), "sim", kSimPassword});
    fs::permissions(passwd,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    std::ofstream(gateway_password) << kGatewayPassword << "\n";
    std::ofstream(sim_password) << kSimPassword << "\n";
    std::ofstream(wrong_password) << "not-the-password\n";
  }

  [[nodiscard]] testing::MosquittoOptions broker_options() const {
    return testing::MosquittoOptions()
        .tls(ca, server_cert, server_key)
        .require_client_certificate()
        .password_file(passwd);
  }

  /// Flags for a client authenticating as `user` with the password in `password_file`.
  [[nodiscard]] std::vector<std::string> client_flags(const std::string& user, const fs::path& password_file,
                                                      const fs::path& trusted_ca) const {
    return {"--mqtt-ca",         trusted_ca.string(), "--mqtt-cert", client_cert.string(),   "--mqtt-key",
            client_key.string(), "--mqtt-username",   user,          "--mqtt-password-file", password_file.string()};
  }

  fs::path ca, ca_key, server_cert, server_key, client_cert, client_key, other_ca;
  fs::path passwd, gateway_password, sim_password, wrong_password;
};

/// Rows in the collector's table, and how many of them hold a whole window (256 samples).
struct RowCounts {
  std::int64_t rows = 0;
  std::int64_t whole = 0;
};

RowCounts count_rows(const fs::path& db) {
  RowCounts counts;
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    return counts;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(handle, "SELECT count(*), coalesce(sum(count = 256), 0) FROM windows", -1, &stmt, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    counts.rows = sqlite3_column_int64(stmt, 0);
    counts.whole = sqlite3_column_int64(stmt, 1);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return counts;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// One simulator run of kDevices x kSeconds at max speed, starting `first_second` after kStartNs.
int run_sim(const std::string& url, int first_second, const std::vector<std::string>& extra, std::string& output) {
  return testing::run_program(concat({SENSORGATE_SIM_BIN, "--mqtt", url, "--devices", std::to_string(kDevices),
                                      "--duration", std::to_string(kSeconds), "--speed", "max", "--seed", "7",
                                      "--start-time-ns", std::to_string(kStartNs + first_second * kSecondNs)},
                                     extra),
                              output, 60s);
}

/// The gateway and the collector of one test, the gateway restartable.
class Pipeline {
 public:
  Pipeline(const fs::path& dir, std::string url, std::vector<std::string> gateway_flags)
      : dir_(dir),
        db_(dir / "windows.sqlite"),
        uplink_("tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port())),
        url_(std::move(url)),
        gateway_flags_(std::move(gateway_flags)),
        collector_({SENSORGATE_COLLECTOR_BIN, "--bind", uplink_, "--db", db_.string()}, dir / "collector.log") {}

  /// Starts a gateway process (numbered, so each has its own log and statistics file).
  testing::ChildProcess& start_gateway(const std::vector<std::string>& extra_flags = {}) {
    ++gateway_runs_;
    gateway_ = std::make_unique<testing::ChildProcess>(
        concat(concat({SENSORGATE_GATEWAY_BIN, "--mqtt", url_, "--uplink", uplink_, "--gateway-id", "gw-mqtt",
                       "--idle-timeout-ms", "500", "--stats-json", stats_path().string()},
                      gateway_flags_),
               extra_flags),
        dir_ / ("gateway-" + std::to_string(gateway_runs_) + ".log"));
    return *gateway_;
  }
  bool wait_subscribed() {
    return testing::wait_until([&] { return gateway_->log().find("subscribed to") != std::string::npos; }, 20s);
  }
  bool wait_rows(std::int64_t rows) {
    return testing::wait_until([&] { return count_rows(db_).rows >= rows; }, 30s);
  }
  /// SIGTERM: the gateway flushes, waits for acknowledgements and exits.
  int stop_gateway() {
    gateway_->signal(SIGTERM);
    return gateway_->wait(20s);
  }
  [[nodiscard]] nlohmann::json stats() const {
    return nlohmann::json::parse(testing::read_file(stats_path()), nullptr, false);
  }
  [[nodiscard]] fs::path stats_path() const { return dir_ / ("stats-" + std::to_string(gateway_runs_) + ".json"); }
  [[nodiscard]] std::string gateway_log() const { return gateway_ ? gateway_->log() : ""; }
  [[nodiscard]] const fs::path& db() const { return db_; }

 private:
  fs::path dir_;
  fs::path db_;
  std::string uplink_;
  std::string url_;
  std::vector<std::string> gateway_flags_;
  testing::ChildProcess collector_;
  std::unique_ptr<testing::ChildProcess> gateway_;
  int gateway_runs_ = 0;
};

TEST(MqttSecurity, SimThroughMutualTlsAndPasswordBroker_EveryWindowStored) {
  testing::TempDir dir;
  const TestPki pki(dir.path());
  testing::MosquittoBroker broker(dir.path(), pki.broker_options());
  Pipeline pipeline(dir.path(), broker.url(), pki.client_flags("gateway", pki.gateway_password, pki.ca));
  // Debug logging: the most a log ever says, for the secrets check at the end.
  pipeline.start_gateway({"--log-level", "debug"});
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway_log() << broker.log();
  EXPECT_NE(pipeline.gateway_log().find("mutual TLS"), std::string::npos) << pipeline.gateway_log();

  std::string sim_output;
  ASSERT_EQ(run_sim(broker.url(), 0,
                    concat(pki.client_flags("sim", pki.sim_password, pki.ca), {"--log-level", "debug"}), sim_output),
            0)
      << sim_output;
  EXPECT_TRUE(pipeline.wait_rows(kRowsPerRun)) << count_rows(pipeline.db()).rows << "\n" << pipeline.gateway_log();
  EXPECT_EQ(pipeline.stop_gateway(), 0) << pipeline.gateway_log();
  const auto counts = count_rows(pipeline.db());
  EXPECT_EQ(counts.rows, kRowsPerRun);
  EXPECT_EQ(counts.whole, kRowsPerRun) << "every window holds all 256 samples";

  // Secrets never reach a log: the passwords, nor the client's TLS private key.
  const std::string key_pem = testing::read_file(pki.client_key);
  const std::string key_body = key_pem.substr(key_pem.find('\n') + 1, 40);  // a line of the key itself
  for (const auto& [who, log] : {std::pair{"gateway", pipeline.gateway_log()}, std::pair{"sim", sim_output}}) {
    EXPECT_GT(log.size(), 0U) << who;
    EXPECT_EQ(log.find(kGatewayPassword), std::string::npos) << who << " logged the gateway's password";
    EXPECT_EQ(log.find(kSimPassword), std::string::npos) << who << " logged the simulator's password";
    EXPECT_EQ(log.find(key_body), std::string::npos) << who << " logged the TLS private key";
  }
}

TEST(MqttSecurity, GatewayWithWrongPassword_ExitsPromptlySayingNotAuthorised) {
  testing::TempDir dir;
  const TestPki pki(dir.path());
  testing::MosquittoBroker broker(dir.path(), pki.broker_options());
  Pipeline pipeline(dir.path(), broker.url(), pki.client_flags("gateway", pki.wrong_password, pki.ca));
  auto& gateway = pipeline.start_gateway();
  EXPECT_EQ(gateway.wait(8s), 4) << pipeline.gateway_log();
  EXPECT_NE(pipeline.gateway_log().find("not authorised"), std::string::npos) << pipeline.gateway_log();

  // The simulator reports the same way: it shares the connection code.
  std::string sim_output;
  EXPECT_EQ(run_sim(broker.url(), 0, pki.client_flags("sim", pki.gateway_password, pki.ca), sim_output), 4)
      << sim_output;
  EXPECT_NE(sim_output.find("not authorised"), std::string::npos) << sim_output;
}

TEST(MqttSecurity, GatewayTrustingAnotherCa_ExitsPromptlyNamingTheTlsFailure) {
  testing::TempDir dir;
  const TestPki pki(dir.path());
  testing::MosquittoBroker broker(dir.path(), pki.broker_options());
  Pipeline pipeline(dir.path(), broker.url(), pki.client_flags("gateway", pki.gateway_password, pki.other_ca));
  auto& gateway = pipeline.start_gateway();
  EXPECT_EQ(gateway.wait(8s), 4) << pipeline.gateway_log();
  const auto log = pipeline.gateway_log();
  EXPECT_NE(log.find("TLS handshake failed"), std::string::npos) << log;
  EXPECT_NE(log.find("certificate verify failed"), std::string::npos) << log;
}

TEST(MqttSecurity, MissingCaFileOrTlsKeysWithPlainUrl_ConfigErrorNamingTheFlag) {
  testing::TempDir dir;
  std::string output;
  EXPECT_EQ(testing::run_program({SENSORGATE_GATEWAY_BIN, "--mqtt", "ssl://127.0.0.1:1", "--mqtt-ca",
                                  (dir.path() / "missing.crt").string(), "--check-config"},
                                 output, 10s),
            2);
  EXPECT_NE(output.find("--mqtt-ca"), std::string::npos) << output;
  EXPECT_NE(output.find("No such file"), std::string::npos) << output;

  std::ofstream(dir.path() / "ca.crt") << "-----BEGIN CERTIFICATE-----\n";
  EXPECT_EQ(testing::run_program({SENSORGATE_SIM_BIN, "--mqtt", "tcp://127.0.0.1:1", "--mqtt-ca",
                                  (dir.path() / "ca.crt").string(), "--check-config"},
                                 output, 10s),
            2);
  EXPECT_NE(output.find("not ssl://"), std::string::npos) << output;
}

TEST(MqttSession, GatewayStoppedWhileSimPublishes_QueuedWindowsDeliveredAfterRestart) {
  testing::TempDir dir;
  const TestPki pki(dir.path());
  testing::MosquittoBroker broker(dir.path(), pki.broker_options());
  auto flags = pki.client_flags("gateway", pki.gateway_password, pki.ca);
  flags.insert(flags.end(), {"--mqtt-client-id", "gw-session-test"});
  Pipeline pipeline(dir.path(), broker.url(), flags);
  const auto sim_flags = pki.client_flags("sim", pki.sim_password, pki.ca);

  pipeline.start_gateway();
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway_log();
  std::string sim_output;
  ASSERT_EQ(run_sim(broker.url(), 0, sim_flags, sim_output), 0) << sim_output;
  ASSERT_TRUE(pipeline.wait_rows(kRowsPerRun)) << pipeline.gateway_log();
  ASSERT_EQ(pipeline.stop_gateway(), 0) << pipeline.gateway_log();

  // The gateway is away: the broker queues these QoS 1 batches in its persistent session.
  ASSERT_EQ(run_sim(broker.url(), kSeconds, sim_flags, sim_output), 0) << sim_output;
  EXPECT_EQ(count_rows(pipeline.db()).rows, kRowsPerRun);

  pipeline.start_gateway();
  EXPECT_TRUE(pipeline.wait_rows(2 * kRowsPerRun)) << count_rows(pipeline.db()).rows << "\n" << pipeline.gateway_log();
  EXPECT_EQ(pipeline.stop_gateway(), 0) << pipeline.gateway_log();
  const auto counts = count_rows(pipeline.db());
  EXPECT_EQ(counts.rows, 2 * kRowsPerRun);
  EXPECT_EQ(counts.whole, 2 * kRowsPerRun);
}

TEST(MqttSession, GatewayRestartedWithCleanStart_QueuedWindowsDiscardedLaterOnesStored) {
  // The counterpart of the persistent-session test (it shows that test can fail): the same
  // steps with --mqtt-clean-start lose what the broker had queued.
  testing::TempDir dir;
  testing::MosquittoBroker broker(dir.path());
  Pipeline pipeline(dir.path(), broker.url(), {"--mqtt-client-id", "gw-clean-test"});
  pipeline.start_gateway();
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway_log();
  EXPECT_NE(pipeline.gateway_log().find("persistent session"), std::string::npos) << pipeline.gateway_log();
  ASSERT_EQ(pipeline.stop_gateway(), 0) << pipeline.gateway_log();
  std::string sim_output;
  ASSERT_EQ(run_sim(broker.url(), 0, {}, sim_output), 0) << sim_output;

  pipeline.start_gateway({"--mqtt-clean-start"});
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway_log();
  EXPECT_NE(pipeline.gateway_log().find("clean session"), std::string::npos) << pipeline.gateway_log();
  ASSERT_EQ(run_sim(broker.url(), kSeconds, {}, sim_output), 0) << sim_output;
  EXPECT_TRUE(pipeline.wait_rows(kRowsPerRun)) << pipeline.gateway_log();
  EXPECT_EQ(pipeline.stop_gateway(), 0) << pipeline.gateway_log();
  EXPECT_EQ(count_rows(pipeline.db()).rows, kRowsPerRun) << "only the run published after the clean start";
}

TEST(MqttSession, BrokerRestartedOnSamePort_GatewayReconnectsAndKeepsIngesting) {
  testing::TempDir dir;
  testing::MosquittoBroker broker(dir.path());
  Pipeline pipeline(dir.path(), broker.url(), {});
  pipeline.start_gateway();
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway_log();
  std::string sim_output;
  ASSERT_EQ(run_sim(broker.url(), 0, {}, sim_output), 0) << sim_output;
  ASSERT_TRUE(pipeline.wait_rows(kRowsPerRun)) << pipeline.gateway_log();

  broker.stop();
  broker.start();
  // Without broker persistence the session is gone: the gateway must reconnect and subscribe again.
  ASSERT_TRUE(testing::wait_until(
      [&] { return pipeline.gateway_log().find("subscribed to sensorgate/+/frames again") != std::string::npos; }, 20s))
      << pipeline.gateway_log();
  // The same gateway process remembers the devices' sequence numbers, and a new simulator
  // starts at 0 again: publish as other devices so nothing counts as a duplicate.
  const auto other_devices = dir.path() / "other-devices.toml";
  std::ofstream(other_devices) << "[sim]\ndevice_prefix = \"after-restart\"\n";
  ASSERT_EQ(run_sim(broker.url(), kSeconds, {"--config", other_devices.string()}, sim_output), 0) << sim_output;
  EXPECT_TRUE(pipeline.wait_rows(2 * kRowsPerRun)) << count_rows(pipeline.db()).rows << "\n" << pipeline.gateway_log();
  EXPECT_EQ(pipeline.stop_gateway(), 0) << pipeline.gateway_log();

  const auto stats = pipeline.stats();
  ASSERT_TRUE(stats.is_object()) << testing::read_file(pipeline.stats_path());
  EXPECT_EQ(stats.value("mqtt_connection_losses", 0), 1);
  EXPECT_EQ(stats.value("mqtt_reconnects", 0), 1);
  EXPECT_EQ(stats.value("mqtt_connects", 0), 2);
  const auto counts = count_rows(pipeline.db());
  EXPECT_EQ(counts.rows, 2 * kRowsPerRun);
  EXPECT_EQ(counts.whole, 2 * kRowsPerRun);
}

}  // namespace
}  // namespace sensorgate
