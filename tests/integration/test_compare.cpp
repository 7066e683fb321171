// sensorgate-gateway compare, run as a program: synthetic EEG through the hot path per
// backend and worker count, the report it writes (report.json, report.html), merging the
// reports of several machines, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/testing/processes.hpp"

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kDevices = 4;
constexpr int kChannels = 16;
constexpr int kRateHz = 256;
constexpr int kSeconds = 8;

/// Runs `sensorgate-gateway compare ARGS`; returns the exit status and fills `output`.
int compare(const std::vector<std::string>& args, std::string& output) {
  std::vector<std::string> argv{SENSORGATE_GATEWAY_BIN, "compare"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--log-level", "warn"});
  return run_program(argv, output, 300s);
}

/// Where the web bundle of the build tree is: the binary's default web root.
std::filesystem::path bundle_dir() {
  return std::filesystem::path(SENSORGATE_GATEWAY_BIN).parent_path() / ".." / "share" / "sensorgate" / "web";
}

/// A web root with a tiny stand-in for the bundle.
std::filesystem::path fake_web_root(const std::filesystem::path& dir) {
  auto root = dir / "web";
  std::filesystem::create_directories(root);
  std::ofstream(root / "report.css") << "body{margin:0}";
  std::ofstream(root / "report.js") << "/*report bundle*/console.log(window.SENSORGATE_REPORT.schema);";
  return root;
}

/// A small, fast report of one machine in `out`.
void small_report(const std::filesystem::path& out, const std::string& label, const std::filesystem::path& web_root) {
  std::string output;
  ASSERT_EQ(compare({"--input", "synthetic:4", "--devices", "2", "--repeat", "1", "--label", label, "--web-root",
                     web_root.string(), "--out", out.string()},
                    output),
            0)
      << output;
}

TEST(Compare, SyntheticCpuAndCuda_EveryRunMeasuredWithStagesAndNoDrops) {
  TempDir dir;
  const auto out = dir.path() / "out";
  ASSERT_TRUE(std::filesystem::exists(bundle_dir() / "report.js"))
      << "the web bundle is missing; build the sensorgate_web target (" << bundle_dir() << ")";
  std::string output;
  ASSERT_EQ(compare({"--input", "synthetic:8", "--devices", "4", "--workers", "1,2", "--repeat", "2", "--backends",
                     "cpu,cuda", "--out", out.string()},
                    output),
            0)
      << output;
  const auto report = nlohmann::json::parse(read_file(out / "report.json"));
  EXPECT_EQ(report["schema"], "sensorgate-compare/1");
  EXPECT_THAT(report["created"].get<std::string>(), ::testing::MatchesRegex("....-..-..T..:..:..Z"));
  ASSERT_EQ(report["machines"].size(), 1U);
  const auto& machine = report["machines"][0];
  EXPECT_EQ(machine["label"], machine["environment"]["hostname"]);  // the default label
  EXPECT_FALSE(machine["environment"]["cpu_model"].get<std::string>().empty());
  const auto& runs = machine["runs"];
  ASSERT_EQ(runs.size(), 4U) << runs.dump(2);  // cpu w1, cpu w2, cuda w1, cuda w2

  const bool gpu = kernels::cuda_backend_available();
  for (const auto& run : runs) {
    SCOPED_TRACE(run["name"].get<std::string>());
    const bool cuda = run["name"].get<std::string>().starts_with("cuda");
    if (cuda && !gpu) {
      EXPECT_EQ(run["skipped"], "no usable CUDA GPU in this build or machine");
      continue;
    }
    ASSERT_FALSE(run.contains("skipped"));
    EXPECT_EQ(run["backend"], cuda ? "cuda" : "cpu");
    EXPECT_EQ(run["backend_used"], cuda ? "cuda" : "cpu");
    EXPECT_EQ(run["devices"], kDevices);
    EXPECT_EQ(run["channels"], kChannels);
    EXPECT_EQ(run["rate_hz"], kRateHz);
    EXPECT_EQ(run["input"], "synthetic:8");
    EXPECT_EQ(run["repeats"], 2);
    EXPECT_EQ(run["samples"], kDevices * kChannels * kRateHz * kSeconds);
    // One summary per device and window; the input starts on a window boundary.
    const int window_ms = run["window_ms"].get<int>();
    EXPECT_EQ(window_ms, 1000);  // windows.length_ms's default
    const int windows_per_device = (kSeconds * 1000 + window_ms - 1) / window_ms;
    EXPECT_EQ(run["windows"], kDevices * windows_per_device);
    EXPECT_EQ(run["wall_seconds"].size(), 2U);
    EXPECT_EQ(run["throughput_runs"].size(), 2U);
    EXPECT_GT(run["throughput_samples_per_s"].get<double>(), 0);
    const auto& latency = run["latency_seconds"];
    EXPECT_GT(latency["p50"].get<double>(), 0);
    EXPECT_LE(latency["p50"].get<double>(), latency["p90"].get<double>());
    EXPECT_LE(latency["p90"].get<double>(), latency["p99"].get<double>());
    EXPECT_GT(latency["max"].get<double>(), 0);
    const auto& histogram = run["latency_histogram"];
    ASSERT_EQ(histogram["le"].size(), histogram["counts"].size());
    EXPECT_EQ(histogram["le"].back(), "+Inf");
    std::uint64_t counted = 0;
    for (const auto& c : histogram["counts"]) counted += c.get<std::uint64_t>();
    EXPECT_EQ(counted, 2U * run["windows"].get<std::uint64_t>());  // every window of both repetitions
    std::set<std::string> stages;
    for (const auto& stage : run["stages"]) stages.insert(stage["name"].get<std::string>());
    for (const char* name : {"ingest_decode", "ring_handoff", "window_stats"}) {
      EXPECT_TRUE(stages.contains(name)) << name << " missing from " << run["stages"].dump();
    }
    for (const auto& stage : run["stages"]) {
      if (stage["name"] == "ingest_decode") {
        EXPECT_EQ(stage["items"], 2 * kDevices * kRateHz * kSeconds);  // frames of both repetitions
      }
    }
    for (const auto& [kind, value] : run["drops"].items()) EXPECT_EQ(value, 0) << kind;
    EXPECT_EQ(run["drops"].size(), 5U);
  }
  EXPECT_EQ(runs[0]["name"], "cpu w1 win1000");
  EXPECT_EQ(runs[1]["name"], "cpu w2 win1000");
  EXPECT_EQ(runs[1]["workers"], 2);

  const std::string html = read_file(out / "report.html");
  EXPECT_TRUE(html.starts_with("<!doctype html><html><head><meta charset=\"utf-8\"><title>sensorgate compare</title>"));
  EXPECT_THAT(html, HasSubstr("window.SENSORGATE_REPORT = {"));
  EXPECT_THAT(html, HasSubstr(read_file(bundle_dir() / "report.js")));
  EXPECT_THAT(html, HasSubstr(read_file(bundle_dir() / "report.css")));
  // The plain-text table on stdout.
  EXPECT_THAT(output, HasSubstr("Msamples/s"));
  EXPECT_THAT(output, HasSubstr("cpu w2 win1000"));
}

TEST(Compare, LabelWithScriptEndTag_EscapedInHtml) {
  TempDir dir;
  const auto web = fake_web_root(dir.path());
  small_report(dir.path() / "out", "</script><b>x", web);
  const std::string html = read_file(dir.path() / "out" / "report.html");
  EXPECT_THAT(html, HasSubstr("<style>body{margin:0}</style></head><body><script>window.SENSORGATE_REPORT = {"));
  EXPECT_THAT(html, Not(HasSubstr("</script><b>x")));
  EXPECT_THAT(html, HasSubstr("<\\/script><b>x"));
  EXPECT_TRUE(
      html.ends_with(";</script><script>/*report bundle*/console.log(window.SENSORGATE_REPORT.schema);"
                     "</script></body></html>\n"));
  const auto report = nlohmann::json::parse(read_file(dir.path() / "out" / "report.json"));
  EXPECT_EQ(report["machines"][0]["label"], "</script><b>x");
}

TEST(Compare, WebRootWithoutBundle_ExitsOneAfterWritingReportJson) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "empty");
  std::string output;
  EXPECT_EQ(compare({"--input", "synthetic:4", "--devices", "1", "--repeat", "1", "--web-root",
                     (dir.path() / "empty").string(), "--out", (dir.path() / "out").string()},
                    output),
            1);
  EXPECT_THAT(output, HasSubstr((dir.path() / "empty" / "report.css").string()));
  EXPECT_THAT(output, HasSubstr("sensorgate_web"));
  EXPECT_THAT(output, HasSubstr("--web-root"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "out" / "report.json"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "out" / "report.html"));
}

TEST(Compare, MergeTwoReports_GivesBothMachines) {
  TempDir dir;
  const auto web = fake_web_root(dir.path());
  small_report(dir.path() / "a", "laptop", web);
  small_report(dir.path() / "b", "jetson", web);
  std::string output;
  ASSERT_EQ(compare({"merge", (dir.path() / "a" / "report.json").string(), (dir.path() / "b" / "report.json").string(),
                     "--out", (dir.path() / "merged").string(), "--web-root", web.string()},
                    output),
            0)
      << output;
  const auto report = nlohmann::json::parse(read_file(dir.path() / "merged" / "report.json"));
  EXPECT_EQ(report["schema"], "sensorgate-compare/1");
  ASSERT_EQ(report["machines"].size(), 2U);
  EXPECT_EQ(report["machines"][0]["label"], "laptop");
  EXPECT_EQ(report["machines"][1]["label"], "jetson");
  EXPECT_EQ(report["machines"][1]["runs"][0]["name"], "cpu w1 win1000");
  EXPECT_THAT(read_file(dir.path() / "merged" / "report.html"), HasSubstr("\"label\":\"jetson\""));
  EXPECT_THAT(output, HasSubstr("laptop"));
  EXPECT_THAT(output, HasSubstr("jetson"));
}

TEST(Compare, MergeNonReportJson_ExitsOneNamingTheFile) {
  TempDir dir;
  const auto web = fake_web_root(dir.path());
  small_report(dir.path() / "a", "laptop", web);
  const auto other = dir.path() / "summary.json";
  std::ofstream(other) << R"({"windows": 3})";
  std::string output;
  EXPECT_EQ(compare({"merge", (dir.path() / "a" / "report.json").string(), other.string(), "--out",
                     (dir.path() / "merged").string(), "--web-root", web.string()},
                    output),
            1);
  EXPECT_THAT(output, HasSubstr(other.string()));
  EXPECT_THAT(output, HasSubstr("not a compare report"));

  const auto broken = dir.path() / "broken.json";
  std::ofstream(broken) << "{\"schema\": ";
  EXPECT_EQ(compare({"merge", broken.string(), "--out", (dir.path() / "merged").string()}, output), 1);
  EXPECT_THAT(output, HasSubstr(broken.string()));
  EXPECT_EQ(
      compare({"merge", (dir.path() / "missing.json").string(), "--out", (dir.path() / "merged").string()}, output), 1);
  EXPECT_THAT(output, HasSubstr("missing.json"));
}

TEST(Compare, UnknownBackend_ExitsTwo) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(compare({"--backends", "gpu", "--out", dir.path().string()}, output), 2);
  EXPECT_THAT(output, HasSubstr("gpu"));
  EXPECT_EQ(compare({"--workers", "0", "--out", dir.path().string()}, output), 2);
}

TEST(Compare, BadInput_ExitsOneWithMessage) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(compare({"--input", "synthetic:abc", "--out", dir.path().string()}, output), 1);
  EXPECT_THAT(output, HasSubstr("synthetic:SECONDS"));
  EXPECT_EQ(compare({"--input", (dir.path() / "nope.edf").string(), "--out", dir.path().string()}, output), 1);
  EXPECT_THAT(output, HasSubstr("nope.edf"));
}

}  // namespace
}  // namespace sensorgate::testing
