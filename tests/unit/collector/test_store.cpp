// The collector's Store, every test against each backend: a SQLite file and a real
// PostgreSQL server (one per suite, a fresh database per test). CTest runs the SQLite half
// as unit test test_store and the PostgreSQL half as integration test test_store_postgres.
#include "sensorgate/collector/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <latch>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "sensorgate/collector/sqlite_store.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/store_backend_test.hpp"
#ifdef SENSORGATE_HAVE_POSTGRES
#include <pqxx/pqxx>

#include "sensorgate/collector/postgres_store.hpp"
#endif

namespace sensorgate::collector {
namespace {

using testing::StoreBackend;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

StoredWindow window(const std::string& gw, const std::string& dev, std::int64_t start, std::uint16_t channels) {
  StoredWindow w{gw, {}};
  w.window.device_id = dev;
  w.window.window_start_ns = start;
  w.window.window_end_ns = start + 1000;
  for (std::uint16_t c = 0; c < channels; ++c) w.window.channels.push_back({c, 256, -1, 1, 0.5, 0.25});
  return w;
}

/// A window a live model classified: its label (-1: none), prediction, model version and
/// the gateway's running accuracy.
StoredWindow classified(const std::string& gw, const std::string& dev, std::int64_t start, std::int32_t label,
                        float prediction, std::uint32_t model_version, float accuracy) {
  auto w = window(gw, dev, start, 3);
  w.window.label = label;
  w.window.prediction = prediction;
  w.window.model_version = model_version;
  w.window.prequential_accuracy = accuracy;
  return w;
}

/// Event of device d1 from gateway gw starting at 1000, one window per 1000 ns.
StoredEvent event(std::int64_t end, bool ongoing) {
  StoredEvent e{"gw", {}};
  e.event.device_id = "d1";
  e.event.start_ns = 1000;
  e.event.end_ns = end;
  e.event.peak_score = 4.5;
  e.event.peak_window_start_ns = 2000;
  e.event.windows = static_cast<std::uint32_t>((end - 1000) / 1000);
  e.event.channels = {3, 0, 7};
  e.event.ongoing = ongoing;
  return e;
}

StoredModel model(const std::string& spec, std::uint32_t version = 0) {
  return StoredModel{
      version, uplink::ModelKind::kLogisticRegression, spec, 123, {0, 1, 2, 0xff, 0}, R"({"accuracy":0.9})"};
}

bool is_postgres(const std::string& url) {
  return url.starts_with("postgresql://");
}

/// The columns of the first row `sql` returns from the database at `url`, read directly (not
/// through the Store), as text ("NULL" for NULL); empty when there is no row. Both backends
/// print 2.5 as "2.5", but an integral REAL as "6.0" (SQLite) or "6" (PostgreSQL): the
/// tests compare non-integral values as text.
std::vector<std::string> first_row(const std::string& url, const std::string& sql) {
  std::vector<std::string> row;
  if (is_postgres(url)) {
#ifdef SENSORGATE_HAVE_POSTGRES
    pqxx::connection connection(url);
    pqxx::nontransaction tx(connection);
    const auto result = tx.exec(sql);
    if (result.empty()) return row;
    for (const auto& field : result[0]) row.emplace_back(field.is_null() ? "NULL" : field.c_str());
#endif
    return row;
  }
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(url.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const auto* text = sqlite3_column_text(stmt, i);
      row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return row;
}

std::vector<std::string> cells(std::initializer_list<const char*> values) {
  return {values.begin(), values.end()};
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class StoreTest : public testing::StoreBackendTest {
 protected:
  [[nodiscard]] std::unique_ptr<Store> open() const { return open_store(url()); }
};

TEST_P(StoreTest, Open_NewDatabase_MigratedToLatestSchema) {
  const auto store = open();
  EXPECT_EQ(store->schema_version(), 6);
  EXPECT_EQ(store->count_window_rows(), 0U);
  EXPECT_EQ(store->count_event_rows(), 0U);
  EXPECT_EQ(store->count_label_rows(), 0U);
  EXPECT_EQ(store->next_model_version(), 1U);
}

TEST_P(StoreTest, Open_Reopened_MigrationsAppliedOnceRowsKept) {
  {
    const auto store = open();
    EXPECT_EQ(store->store(std::vector{window("gw", "d1", 0, 2)}), 2U);
  }
  for (int i = 0; i < 2; ++i) {
    const auto again = open();
    EXPECT_EQ(again->schema_version(), 6);
    EXPECT_EQ(again->count_window_rows(), 2U);
  }
  if (is_postgres(url())) {
    EXPECT_EQ(first_row(url(), "SELECT count(*), min(version), max(version) FROM schema_migrations"),
              cells({"6", "1", "6"}));
  } else {
    EXPECT_EQ(first_row(url(), "PRAGMA user_version"), cells({"6"}));
  }
}

TEST_P(StoreTest, Describe_NamesBackendAndDatabase) {
  const auto store = open();
  if (is_postgres(url())) {
    EXPECT_EQ(store->describe(), "postgresql:127.0.0.1:" + std::to_string(databases()->postgres().port()) +
                                     url().substr(url().rfind('/')));
  } else {
    EXPECT_EQ(store->describe(), "sqlite:" + url());
  }
}

TEST_P(StoreTest, Store_OneRowPerChannel) {
  const auto store = open();
  const std::vector<StoredWindow> batch{window("gw", "d1", 0, 16), window("gw", "d2", 0, 16)};
  EXPECT_EQ(store->store(batch), 32U);
  EXPECT_EQ(store->count_window_rows(), 32U);
}

TEST_P(StoreTest, Store_SameWindowTwice_StoredOnce) {
  const auto store = open();
  const std::vector<StoredWindow> batch{window("gw", "d1", 0, 4)};
  EXPECT_EQ(store->store(batch), 4U);
  EXPECT_EQ(store->store(batch), 0U);
  // Same device and start from another gateway is a different row.
  EXPECT_EQ(store->store(std::vector{window("gw2", "d1", 0, 4)}), 4U);
  // ...and a duplicate within one batch is written once.
  EXPECT_EQ(store->store(std::vector{window("gw3", "d1", 0, 4), window("gw3", "d1", 0, 4)}), 4U);
  EXPECT_EQ(store->count_window_rows(), 12U);
}

TEST_P(StoreTest, Store_HigherRevision_ReplacesRow_LowerOrEqualDoesNot) {
  const auto store = open();
  auto original = window("gw", "d1", 0, 1);
  EXPECT_EQ(store->store(std::vector{original}), 1U);
  auto corrected = original;
  corrected.window.revision = 1;
  corrected.window.channels[0].count = 300;
  EXPECT_EQ(store->store(std::vector{corrected}), 1U);
  EXPECT_EQ(store->store(std::vector{original}), 0U) << "a late redelivery of revision 0 must not undo the correction";
  EXPECT_EQ(store->store(std::vector{corrected}), 0U);
  EXPECT_EQ(store->count_window_rows(), 1U);
  EXPECT_EQ(first_row(url(), "SELECT count, revision FROM windows"), cells({"300", "1"}));
}

TEST_P(StoreTest, Store_HistogramAndBands_StoredPerChannel) {
  {
    const auto store = open();
    auto w = window("gw", "d1", 0, 2);
    w.window.histogram_edges = {-1.5F, 0.0F, 1.5F};
    w.window.histogram_counts = {1, 2, 3, 4, 5, 6, 7, 8};
    w.window.band_powers = {1.5F, 2, 3, 4, 5, 6.5F, 7, 8, 9, 10.5F};
    store->store(std::vector{w});
  }
  EXPECT_EQ(first_row(url(), "SELECT histogram, band_delta, band_gamma FROM windows WHERE channel = 1"),
            cells({R"({"edges":[-1.5,0,1.5],"counts":[5,6,7,8]})", "6.5", "10.5"}));
}

TEST_P(StoreTest, Store_StoredNs_IsTheCollectorsWallClockAtCommit) {
  const std::int64_t before = now_ns();
  open()->store(std::vector{window("gw", "d1", 0, 1)});
  const std::int64_t after = now_ns();
  const auto stored = std::stoll(first_row(url(), "SELECT stored_ns FROM windows").at(0));
  EXPECT_GE(stored, before);
  EXPECT_LE(stored, after);
}

TEST_P(StoreTest, Store_AnomalyScore_OnEveryChannelRow_NullWhenNotScored) {
  auto scored = window("gw", "d1", 0, 2);
  scored.window.anomaly_score = 2.5F;
  open()->store(std::vector{scored, window("gw", "d1", 1000, 2)});
  const std::string sql =
      "SELECT count(*), min(anomaly_score), max(anomaly_score) FROM windows WHERE window_start_ns = ";
  EXPECT_EQ(first_row(url(), sql + "0"), cells({"2", "2.5", "2.5"}));
  EXPECT_EQ(first_row(url(), sql + "1000"), cells({"2", "NULL", "NULL"}));
}

TEST_P(StoreTest, Store_ModelFields_OnEveryChannelRow_NullWhenNone) {
  open()->store(std::vector{classified("gw", "d1", 0, 1, 0.75F, 3, 0.5F), window("gw", "d1", 1000, 2)});
  const std::string sql =
      "SELECT count(*), min(label), max(prediction), min(model_version), max(prequential_accuracy) FROM windows "
      "WHERE window_start_ns = ";
  EXPECT_EQ(first_row(url(), sql + "0"), cells({"3", "1", "0.75", "3", "0.5"}));
  EXPECT_EQ(first_row(url(), sql + "1000"), cells({"2", "NULL", "NULL", "NULL", "NULL"}))
      << "label -1, NaN and model version 0 are stored as NULL";
}

TEST_P(StoreTest, StoreEvents_OneRowPerEvent_AllFieldsStored) {
  const auto store = open();
  auto other_device = event(3000, false);
  other_device.event.device_id = "d2";
  EXPECT_EQ(store->store_events(std::vector{event(3000, true), other_device}), 2U);
  EXPECT_EQ(store->count_event_rows(), 2U);
  EXPECT_EQ(first_row(url(),
                      "SELECT gateway_id, device_id, start_ns, end_ns, peak_score, peak_window_start_ns, windows, "
                      "channels, ongoing FROM anomaly_events WHERE device_id = 'd1'"),
            cells({"gw", "d1", "1000", "3000", "4.5", "2000", "2", "3,0,7", "1"}));
}

TEST_P(StoreTest, StoreRawFrames_RecordTwice_StoredOnceWithSamplesAsBytes) {
  const auto store = open();
  StoredRawFrames record{"gw", {"d1", 100, 5000, 256.0, 2, {1.5F, -2.0F, 3.0F, 4.0F, 5.0F, 6.0F}}};
  auto next = record;
  next.frames.first_seq = 103;
  EXPECT_EQ(store->store_raw_frames(std::vector{record, next}), 6U);
  EXPECT_EQ(store->store_raw_frames(std::vector{record}), 0U) << "a redelivery";
  EXPECT_EQ(store->count_raw_frames(), 6U);
  EXPECT_EQ(first_row(url(),
                      "SELECT first_time_ns, CAST(sample_rate_hz AS INTEGER), channels, frames, length(samples) FROM "
                      "raw_frames WHERE first_seq = 100"),
            cells({"5000", "256", "2", "3", "24"}));
}

TEST_P(StoreTest, StoreEvents_SameEventTwice_StoredOnce) {
  const auto store = open();
  for (const bool ongoing : {true, false}) {
    auto e = event(3000, ongoing);
    e.event.device_id = ongoing ? "ongoing" : "closed";
    EXPECT_EQ(store->store_events(std::vector{e}), 1U);
    EXPECT_EQ(store->store_events(std::vector{e}), 0U);
  }
  // Same device and start from another gateway is a different event.
  auto other = event(3000, true);
  other.gateway_id = "gw2";
  EXPECT_EQ(store->store_events(std::vector{other}), 1U);
  EXPECT_EQ(store->count_event_rows(), 3U);
}

TEST_P(StoreTest, StoreEvents_FinalAfterOngoing_ReplacesRow) {
  const auto store = open();
  EXPECT_EQ(store->store_events(std::vector{event(3000, true)}), 1U);
  EXPECT_EQ(store->store_events(std::vector{event(4000, true)}), 1U) << "a longer ongoing report replaces the row";
  auto final_report = event(6000, false);
  final_report.event.peak_score = 9.5;
  final_report.event.channels = {1};
  EXPECT_EQ(store->store_events(std::vector{final_report}), 1U);
  EXPECT_EQ(store->count_event_rows(), 1U);
  EXPECT_EQ(first_row(url(), "SELECT end_ns, peak_score, windows, channels, ongoing FROM anomaly_events"),
            cells({"6000", "9.5", "5", "1", "0"}));
}

TEST_P(StoreTest, StoreEvents_StaleOngoingAfterFinal_DoesNotReplaceRow) {
  const auto store = open();
  EXPECT_EQ(store->store_events(std::vector{event(3000, true), event(5000, false)}), 2U);
  EXPECT_EQ(store->store_events(std::vector{event(3000, true)}), 0U) << "a resent ongoing report after the final one";
  EXPECT_EQ(store->store_events(std::vector{event(9000, true)}), 0U) << "nothing reopens a closed event";
  auto shorter = event(4000, true);
  shorter.event.device_id = "d2";
  EXPECT_EQ(store->store_events(std::vector{event(5000, true), shorter}), 1U);
  shorter.event.end_ns = 2000;
  EXPECT_EQ(store->store_events(std::vector{shorter}), 0U) << "an older ongoing report after a newer one";
  EXPECT_EQ(first_row(url(), "SELECT end_ns, ongoing FROM anomaly_events WHERE device_id = 'd1'"),
            cells({"5000", "0"}));
  EXPECT_EQ(first_row(url(), "SELECT end_ns, ongoing FROM anomaly_events WHERE device_id = 'd2'"),
            cells({"4000", "1"}));
}

TEST_P(StoreTest, Store_LabelledWindows_OneStreamLabelEach_FollowingTheStoredRevision) {
  const auto store = open();
  auto labelled = classified("gw", "d1", 0, 1, kNaN, 0, kNaN);
  const std::vector batch{labelled, classified("gw", "d1", 1000, -1, kNaN, 0, kNaN)};
  EXPECT_EQ(store->store(batch), 6U);
  EXPECT_EQ(store->store(batch), 0U);
  EXPECT_EQ(store->count_label_rows(), 1U) << "one label row per labelled window, redelivery adds none";
  EXPECT_EQ(first_row(url(), "SELECT device_id, start_ns, end_ns, label, source FROM labels"),
            cells({"d1", "0", "1000", "1", "stream"}));

  // A correction with another label moves the label; one without a label removes it.
  labelled.window.revision = 1;
  labelled.window.label = 2;
  EXPECT_EQ(store->store(std::vector{labelled}), 3U);
  EXPECT_EQ(first_row(url(), "SELECT label FROM labels"), cells({"2"}));
  labelled.window.revision = 2;
  labelled.window.label = -1;
  EXPECT_EQ(store->store(std::vector{labelled}), 3U);
  EXPECT_EQ(store->count_label_rows(), 0U);
}

TEST_P(StoreTest, StoreLabels_LatestValueWins_SameValueWritesNothing) {
  const auto store = open();
  const LabelInterval manual{"d1", 0, 5000, 1, "manual"};
  EXPECT_EQ(store->store_labels(std::vector{manual, LabelInterval{"d1", 0, 5000, 0, "labels.csv"}}), 2U)
      << "the same interval from another source is another row";
  EXPECT_EQ(store->store_labels(std::vector{manual}), 0U);
  auto relabelled = manual;
  relabelled.label = 3;
  EXPECT_EQ(store->store_labels(std::vector{relabelled}), 1U);
  EXPECT_EQ(store->count_label_rows(), 2U);
  EXPECT_EQ(first_row(url(), "SELECT label FROM labels WHERE source = 'manual'"), cells({"3"}));
}

TEST_P(StoreTest, LoadWindows_RoundTrip_ChannelsBandsAndModelFieldsAsStored) {
  const auto store = open();
  auto full = classified("gw", "d1", 0, 1, 0.75F, 3, 0.5F);
  full.window.revision = 2;
  full.window.anomaly_score = 2.5F;
  full.window.channels = {{0, 256, -1.25F, 3.5F, 0.125, 2.25}, {1, 255, -7.0F, 7.0F, -0.5, 9.0}};
  full.window.band_powers = {1.5F, 2, 3, 4, 5, 6.5F, 7, 8, 9, 10.5F};
  full.window.histogram_edges = {0.0F};
  full.window.histogram_counts = {1, 2, 3, 4};
  const auto plain = window("gw", "d2", 0, 2);
  store->store(std::vector{full, plain});

  const auto loaded = store->load_windows({});
  ASSERT_EQ(loaded.size(), 2U);
  const auto& w = loaded[0].window;
  EXPECT_EQ(loaded[0].gateway_id, "gw");
  EXPECT_EQ(w.device_id, "d1");
  EXPECT_EQ(w.window_start_ns, 0);
  EXPECT_EQ(w.window_end_ns, 1000);
  EXPECT_EQ(w.revision, 2U);
  ASSERT_EQ(w.channels.size(), 2U);
  for (std::size_t c = 0; c < 2; ++c) {
    EXPECT_EQ(w.channels[c].channel, full.window.channels[c].channel);
    EXPECT_EQ(w.channels[c].count, full.window.channels[c].count);
    EXPECT_EQ(w.channels[c].min, full.window.channels[c].min);
    EXPECT_EQ(w.channels[c].max, full.window.channels[c].max);
    EXPECT_EQ(w.channels[c].mean, full.window.channels[c].mean);
    EXPECT_EQ(w.channels[c].variance, full.window.channels[c].variance);
  }
  EXPECT_EQ(w.band_powers, full.window.band_powers);
  EXPECT_TRUE(w.histogram_edges.empty() && w.histogram_counts.empty()) << "histograms are not read back";
  EXPECT_EQ(w.anomaly_score, 2.5F);
  EXPECT_EQ(w.label, 1);
  EXPECT_EQ(w.prediction, 0.75F);
  EXPECT_EQ(w.model_version, 3U);
  EXPECT_EQ(w.prequential_accuracy, 0.5F);
  EXPECT_EQ(loaded[0].label, 1) << "the stream label interval of the window";

  const auto& p = loaded[1].window;
  EXPECT_EQ(p.device_id, "d2");
  EXPECT_EQ(p.channels.size(), 2U);
  EXPECT_TRUE(p.band_powers.empty());
  EXPECT_TRUE(std::isnan(p.anomaly_score));
  EXPECT_EQ(p.label, -1);
  EXPECT_TRUE(std::isnan(p.prediction));
  EXPECT_EQ(p.model_version, 0U);
  EXPECT_TRUE(std::isnan(p.prequential_accuracy));
  EXPECT_FALSE(loaded[1].label.has_value());
}

TEST_P(StoreTest, LoadWindows_Query_FiltersByTimeDevicesAndGateway_OrderedByStartGatewayDevice) {
  const auto store = open();
  store->store(std::vector{window("gw", "d2", 1000, 1), window("gw2", "d1", 1000, 1), window("gw", "d1", 2000, 1),
                           window("gw", "d1", 0, 1), window("gw", "d1", 1000, 1), window("gw", "d3", 1000, 1)});
  const auto keys = [&](const WindowQuery& query) {
    std::vector<std::string> out;
    for (const auto& lw : store->load_windows(query)) {
      out.push_back(lw.gateway_id + "/" + lw.window.device_id + "@" + std::to_string(lw.window.window_start_ns));
    }
    return out;
  };
  EXPECT_EQ(keys({}), (std::vector<std::string>{"gw/d1@0", "gw/d1@1000", "gw/d2@1000", "gw/d3@1000", "gw2/d1@1000",
                                                "gw/d1@2000"}));
  EXPECT_EQ(keys({1000, 2000, {}, ""}),
            (std::vector<std::string>{"gw/d1@1000", "gw/d2@1000", "gw/d3@1000", "gw2/d1@1000"}))
      << "starting at or after 1000, ending at or before 2000";
  EXPECT_EQ(keys({INT64_MIN, INT64_MAX, {"d1", "d3"}, ""}),
            (std::vector<std::string>{"gw/d1@0", "gw/d1@1000", "gw/d3@1000", "gw2/d1@1000", "gw/d1@2000"}));
  EXPECT_EQ(keys({INT64_MIN, INT64_MAX, {"d1"}, "gw2"}), (std::vector<std::string>{"gw2/d1@1000"}));
  EXPECT_TRUE(keys({INT64_MIN, INT64_MAX, {"nobody"}, ""}).empty());
  EXPECT_TRUE(keys({INT64_MIN, INT64_MAX, {"d1'); DROP TABLE windows; --"}, ""}).empty());
  EXPECT_EQ(store->count_window_rows(), 6U);
}

TEST_P(StoreTest, LoadWindows_Labels_OwnLabelElseIntervalContainingMidpointLatestStartWins) {
  const auto store = open();
  store->store(std::vector{window("gw", "d1", 0, 1), classified("gw", "d1", 1000, 1, kNaN, 0, kNaN),
                           window("gw", "d1", 2000, 1), window("gw", "d1", 3000, 1), window("gw", "d2", 0, 1)});
  // Midpoints 500, 1500, 2500, 3500 (d1) and 500 (d2).
  store->store_labels(
      std::vector{LabelInterval{"d1", 0, 2500, 0, "manual"}, LabelInterval{"d1", 1200, 1800, 2, "manual"},
                  LabelInterval{"d1", 3501, 9000, 4, "manual"}, LabelInterval{"d3", 0, 9000, 5, "manual"}});
  const auto loaded = store->load_windows({});
  ASSERT_EQ(loaded.size(), 5U);
  std::vector<std::string> labels;
  labels.reserve(loaded.size());
  for (const auto& lw : loaded) {
    labels.push_back(lw.window.device_id + "@" + std::to_string(lw.window.window_start_ns) + "=" +
                     (lw.label ? std::to_string(*lw.label) : "none"));
  }
  EXPECT_EQ(labels, (std::vector<std::string>{"d1@0=0", "d2@0=none", "d1@1000=1", "d1@2000=none", "d1@3000=none"}))
      << "[0,2500) holds 500 but not 2500; d1@1000 keeps the label it carried, although [1200,1800) holds its "
         "midpoint; [3501,9000) starts after 3500; d3's label is another device's";
  EXPECT_EQ(loaded[2].window.label, 1) << "the window's own label is what the stream said";
}

TEST_P(StoreTest, AddModel_VersionsInOrder_ModelReadsBackTheSameBytes) {
  const auto store = open();
  EXPECT_EQ(store->next_model_version(), 1U);
  EXPECT_EQ(store->add_model(model("spec-a", 1)), 1U);
  EXPECT_EQ(store->next_model_version(), 2U);
  auto second = model("spec-b");
  second.kind = uplink::ModelKind::kKMeans;
  second.envelope = std::vector<std::uint8_t>(70000, 0);
  second.envelope.back() = 0x80;
  EXPECT_EQ(store->add_model(second), 2U) << "version 0: the store assigns the next one";

  const auto got = store->model(2);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 2U);
  EXPECT_EQ(got->kind, uplink::ModelKind::kKMeans);
  EXPECT_EQ(got->feature_spec, "spec-b");
  EXPECT_EQ(got->created_at_ns, 123);
  EXPECT_EQ(got->envelope, second.envelope);
  EXPECT_EQ(got->metrics_json, R"({"accuracy":0.9})");
  EXPECT_FALSE(store->model(3).has_value());

  const auto all = store->models();
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].version, 1U);
  EXPECT_EQ(all[0].kind, uplink::ModelKind::kLogisticRegression);
  EXPECT_EQ(all[0].envelope, (std::vector<std::uint8_t>{0, 1, 2, 0xff, 0}));
  EXPECT_EQ(all[1].version, 2U);
}

TEST_P(StoreTest, AddModel_VersionTakenMeanwhile_ThrowsAndStoresNothing) {
  const auto store = open();
  const auto signed_for = store->next_model_version();
  auto other_collector = open_store(url());
  EXPECT_EQ(other_collector->add_model(model("first", signed_for)), 1U);
  EXPECT_THROW(store->add_model(model("second", signed_for)), std::runtime_error);
  EXPECT_EQ(store->models().size(), 1U);
  EXPECT_EQ(store->model(1)->feature_spec, "first");
}

TEST_P(StoreTest, RequestPush_PendingUntilCompleted) {
  const auto store = open();
  const auto one = store->request_push(1, "gw-a", false);
  const auto all = store->request_push(2, "*", false);
  const auto back = store->request_push(2, "gw-b", true);
  EXPECT_LT(one, all);
  EXPECT_LT(all, back);
  auto pending = store->pending_pushes();
  ASSERT_EQ(pending.size(), 3U);
  EXPECT_EQ(pending[0].id, one);
  EXPECT_EQ(pending[0].version, 1U);
  EXPECT_EQ(pending[0].gateway_id, "gw-a");
  EXPECT_FALSE(pending[0].rollback);
  EXPECT_EQ(pending[2].gateway_id, "gw-b");
  EXPECT_TRUE(pending[2].rollback);

  store->complete_push(one);
  store->complete_push(one);  // twice is harmless
  pending = store->pending_pushes();
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0].id, all);
  EXPECT_EQ(pending[1].id, back);
  EXPECT_NE(first_row(url(), "SELECT completed_ns FROM model_pushes WHERE version = 1").at(0), "NULL");
}

TEST_P(StoreTest, RecordDeployment_UpsertsByGatewayAndVersion_OlderAnswerDoesNotOverwrite) {
  const auto store = open();
  store->record_deployment({"gw-a", 1, "sent", "", 100});
  store->record_deployment({"gw-b", 1, "sent", "", 100});
  store->record_deployment({"gw-a", 1, "active", "", 200});
  store->record_deployment({"gw-a", 2, "rejected", "feature spec differs", 300});
  store->record_deployment({"gw-a", 1, "sent", "", 150});  // a late, older answer
  const auto all = store->deployments();
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0].gateway_id, "gw-a");
  EXPECT_EQ(all[0].version, 1U);
  EXPECT_EQ(all[0].status, "active");
  EXPECT_EQ(all[0].updated_ns, 200);
  EXPECT_EQ(all[1].version, 2U);
  EXPECT_EQ(all[1].status, "rejected");
  EXPECT_EQ(all[1].detail, "feature spec differs");
  EXPECT_EQ(all[2].gateway_id, "gw-b");
  EXPECT_EQ(all[2].status, "sent");
}

TEST_P(StoreTest, AccuracyByModel_OneCountPerWindow_CorrectWhenThresholdedPredictionMatchesLabel) {
  const auto store = open();
  store->store(std::vector{
      classified("gw", "d1", 0, 1, 0.9F, 1, 1.0F),         // correct
      classified("gw", "d2", 0, 0, 0.7F, 1, 0.5F),         // wrong (same start, other device)
      classified("gw", "d1", 1000, 0, 0.2F, 1, 0.75F),     // correct
      classified("gw", "d1", 2000, -1, 0.6F, 1, 0.6875F),  // unlabelled: not counted; the latest accuracy
      classified("gw", "d1", 3000, 1, 0.4F, 2, 0.0F),      // version 2: wrong
      classified("gw", "d1", 4000, -1, 0.3F, 2, kNaN),     // no accuracy reported: the last one stays
      classified("gw2", "d1", 0, 1, 0.5F, 1, 1.0F),        // p = 0.5 counts as class 1: correct
      classified("gw2", "d1", 1000, 1, kNaN, 0, kNaN),     // no model: not counted anywhere
  });
  const auto accuracy = store->accuracy_by_model();
  ASSERT_EQ(accuracy.size(), 3U);
  const auto expect = [&](std::size_t i, const char* gw, std::uint32_t version, std::uint64_t labelled,
                          std::uint64_t correct, float last) {
    SCOPED_TRACE(i);
    EXPECT_EQ(accuracy[i].gateway_id, gw);
    EXPECT_EQ(accuracy[i].model_version, version);
    EXPECT_EQ(accuracy[i].labelled_windows, labelled);
    EXPECT_EQ(accuracy[i].correct, correct);
    EXPECT_FLOAT_EQ(static_cast<float>(accuracy[i].last_prequential_accuracy), last);
  };
  expect(0, "gw", 1, 3, 2, 0.6875F);
  expect(1, "gw", 2, 1, 0, 0.0F);
  expect(2, "gw2", 1, 1, 1, 1.0F);
}

// Two collectors on one database, started at the same moment (their migrations race on a
// fresh database) and storing the same windows at the same time: every row once, and the
// row counts they report add up to the rows there are.
TEST_P(StoreTest, Store_TwoCollectorsSameWindowsConcurrently_EachRowStoredOnce) {
  constexpr int kWindows = 200;
  constexpr int kBatch = 20;
  std::vector<StoredWindow> windows;
  windows.reserve(kWindows);
  for (int i = 0; i < kWindows; ++i) {
    windows.push_back(
        classified("gw", "d" + std::to_string(i % 4), 1000LL * (i / 4), i % 3 == 0 ? 1 : -1, 0.5F, 1, 0.5F));
  }
  std::latch start(2);
  std::mutex mutex;
  std::vector<std::string> errors;
  std::vector<std::uint64_t> written(2, 0);
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      try {
        start.arrive_and_wait();
        const auto store = open_store(url());
        for (int i = 0; i < kWindows; i += kBatch) {
          written[static_cast<std::size_t>(t)] +=
              store->store(std::span(windows).subspan(static_cast<std::size_t>(i), kBatch));
        }
      } catch (const std::exception& e) {
        const std::scoped_lock lock(mutex);
        errors.emplace_back(e.what());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  const auto store = open();
  EXPECT_EQ(store->count_window_rows(), kWindows * 3U);
  EXPECT_EQ(written[0] + written[1], kWindows * 3U) << written[0] << " + " << written[1];
  EXPECT_EQ(store->count_label_rows(), static_cast<std::uint64_t>((kWindows + 2) / 3));
  EXPECT_EQ(store->schema_version(), 6);
  if (is_postgres(url())) {
    EXPECT_EQ(first_row(url(), "SELECT count(*) FROM schema_migrations"), cells({"6"}));
  }
}

INSTANTIATE_TEST_SUITE_P(Store, StoreTest, ::testing::ValuesIn(testing::store_backends()),
                         testing::StoreBackendTest::name);

// --- SQLite only ------------------------------------------------------------------------

TEST(SqliteStore, OpenVersion3_MigratesToLatest_KeepsRows) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    // A database as the collector left it at schema version 3 (migrations 1 to 3).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, R"sql(
CREATE TABLE windows (
  gateway_id TEXT NOT NULL, device_id TEXT NOT NULL, channel INTEGER NOT NULL,
  window_start_ns INTEGER NOT NULL, window_end_ns INTEGER NOT NULL, count INTEGER NOT NULL,
  min REAL NOT NULL, max REAL NOT NULL, mean REAL NOT NULL, variance REAL NOT NULL,
  revision INTEGER NOT NULL DEFAULT 0, histogram TEXT, band_delta REAL, band_theta REAL,
  band_alpha REAL, band_beta REAL, band_gamma REAL, stored_ns INTEGER,
  PRIMARY KEY (gateway_id, device_id, channel, window_start_ns)
) WITHOUT ROWID;
INSERT INTO windows VALUES ('gw', 'd1', 0, 0, 1000, 256, -1, 1, 0.5, 0.25, 0, NULL, 1, 2, 3, 4, 5, 42);
PRAGMA user_version = 3;
)sql",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  {
    SqliteStore store(path);
    EXPECT_EQ(store.schema_version(), 6);
    EXPECT_EQ(store.count_window_rows(), 1U);
    EXPECT_EQ(store.store(std::vector{window("gw", "d1", 0, 1)}), 0U) << "the old row still keys the window";
    EXPECT_EQ(store.store_events(std::vector{event(3000, false)}), 1U);
    const auto loaded = store.load_windows({});
    ASSERT_EQ(loaded.size(), 1U);
    EXPECT_EQ(loaded[0].window.band_powers, (std::vector<float>{1, 2, 3, 4, 5}));
    EXPECT_EQ(loaded[0].window.label, -1);
  }
  EXPECT_EQ(first_row(path.string(), "SELECT count, band_gamma, stored_ns, anomaly_score, label FROM windows"),
            cells({"256", "5.0", "42", "NULL", "NULL"}));
}

TEST(SqliteStore, NotADatabase_ThrowsWithPath) {
  testing::TempDir dir;
  const auto path = dir.path() / "garbage.sqlite";
  std::ofstream(path) << std::string(4096, 'x');
  try {
    const auto store = open_store(path.string());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.sqlite"), std::string::npos) << e.what();
  }
}

TEST(SqliteStore, OpenStore_SqlitePrefixOrPlainPath_OpensTheSameFile) {
  testing::TempDir dir;
  const auto path = (dir.path() / "a.sqlite").string();
  open_store("sqlite:" + path)->store(std::vector{window("gw", "d1", 0, 2)});
  EXPECT_EQ(open_store(path)->count_window_rows(), 2U);
  EXPECT_EQ(open_store("sqlite://" + path)->describe(), "sqlite:" + path);
}

TEST(SqliteStore, OpenStore_MissingDirectoryOrUnknownScheme_ThrowsNamingIt) {
  testing::TempDir dir;
  const auto missing = (dir.path() / "no" / "such" / "dir.sqlite").string();
  EXPECT_THROW(
      {
        try {
          (void)open_store(missing);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
          throw;
        }
      },
      std::runtime_error);
  EXPECT_THROW(
      {
        try {
          (void)open_store("mysql://root:hunter2@db/x");
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("unknown database URL scheme"), std::string::npos) << e.what();
          EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
          throw;
        }
      },
      std::runtime_error);
  EXPECT_THROW((void)open_store("sqlite:"), std::runtime_error);
}

#ifndef SENSORGATE_HAVE_POSTGRES
TEST(SqliteStore, OpenStore_PostgresUrlInBuildWithoutIt_ThrowsBuiltWithoutSupport) {
  try {
    (void)open_store("postgresql://postgres:secret@127.0.0.1:5432/db");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("built without PostgreSQL support"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
  }
}
#endif

// --- PostgreSQL only --------------------------------------------------------------------

#ifdef SENSORGATE_HAVE_POSTGRES
class PostgresStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { databases() = std::make_unique<testing::TestDatabases>(); }
  static void TearDownTestSuite() { databases().reset(); }
  static std::unique_ptr<testing::TestDatabases>& databases() {
    static std::unique_ptr<testing::TestDatabases> instance;
    return instance;
  }
};

TEST_F(PostgresStoreTest, Open_NothingListening_ThrowsNamingServerNotPassword) {
  const std::string url = "postgresql://postgres:s3cret@127.0.0.1:" + std::to_string(testing::free_tcp_port()) + "/x";
  try {
    (void)open_store(url);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot connect to PostgreSQL"), std::string::npos) << message;
    EXPECT_NE(message.find("127.0.0.1"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  }
}

TEST_F(PostgresStoreTest, Open_NoSuchDatabase_ThrowsNamingIt) {
  const auto url = databases()->postgres().url("never_created");
  try {
    (void)open_store(url);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("never_created"), std::string::npos) << e.what();
  }
}

TEST_F(PostgresStoreTest, Describe_PasswordInUrl_NotShown) {
  // Trust authentication ignores the password, so the connection works.
  auto url = databases()->fresh(StoreBackend::kPostgres);
  url.replace(url.find("postgres@"), 9, "postgres:s3cret@");
  const auto store = open_store(url + "?application_name=test&password=s3cret");
  EXPECT_EQ(store->describe().find("s3cret"), std::string::npos) << store->describe();
  EXPECT_NE(store->describe().find("postgresql:127.0.0.1:"), std::string::npos) << store->describe();
}

TEST_F(PostgresStoreTest, Open_SchemaNewerThanThisCollector_Throws) {
  const auto url = databases()->fresh(StoreBackend::kPostgres);
  (void)open_store(url);
  {
    pqxx::connection connection(url);
    pqxx::nontransaction tx(connection);
    tx.exec("INSERT INTO schema_migrations VALUES (7, 0)");
  }
  try {
    (void)open_store(url);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 7 is newer"), std::string::npos) << e.what();
  }
}
#endif

}  // namespace
}  // namespace sensorgate::collector
