// The compare report's outputs: report.json, the self-contained report.html (the web
// bundle's report.css and report.js with the data inlined) and the plain-text table.
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sensorgate/compare/compare.hpp"

namespace sensorgate::compare {
namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(fmt::format(
        "cannot write report.html: {} is missing; build the web bundle (cmake --build build --target sensorgate_web) "
        "or pass --web-root DIR with report.js and report.css (report.json is written)",
        path.string()));
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

double number(const nlohmann::json& value) {
  return value.is_number() ? value.get<double>() : 0.0;
}

}  // namespace

std::string render_html(const nlohmann::json& report, std::string_view css, std::string_view js) {
  std::string data = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // "<" only occurs inside JSON strings, where "<\/" and "\u003c" mean the same: nothing in
  // the data can close the script element or open an HTML comment in it.
  replace_all(data, "</", "<\\/");
  replace_all(data, "<!--", "\\u003c!--");
  std::string html;
  html.reserve(css.size() + js.size() + data.size() + 256);
  html += "<!doctype html><html><head><meta charset=\"utf-8\"><title>sensorgate compare</title><style>";
  html += css;
  html += "</style></head><body><script>window.SENSORGATE_REPORT = ";
  html += data;
  html += ";</script><script>";
  html += js;
  html += "</script></body></html>\n";
  return html;
}

void write_report(const nlohmann::json& report, const std::filesystem::path& out_dir,
                  const std::filesystem::path& web_root) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", out_dir.string(), ec.message()));
  write_text(out_dir / "report.json", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  const std::string css = read_text(web_root / "report.css");
  const std::string js = read_text(web_root / "report.js");
  write_text(out_dir / "report.html", render_html(report, css, js));
}

std::string format_table(const nlohmann::json& report) {
  std::vector<std::vector<std::string>> rows{{"machine", "run", "Msamples/s", "p50 ms", "p99 ms", "windows", "drops"}};
  std::vector<std::string> skipped;
  for (const auto& machine : report.value("machines", nlohmann::json::array())) {
    const std::string label = machine.value("label", "");
    for (const auto& run : machine.value("runs", nlohmann::json::array())) {
      const std::string name = run.value("name", "");
      if (run.contains("skipped")) {
        skipped.push_back(fmt::format("{} {}: skipped ({})", label, name, run.value("skipped", "")));
        continue;
      }
      const nlohmann::json latency = run.value("latency_seconds", nlohmann::json::object());
      double drops = 0;
      const nlohmann::json drop_counts = run.value("drops", nlohmann::json::object());
      for (const auto& value : drop_counts) drops += number(value);
      rows.push_back({label, name, fmt::format("{:.2f}", number(run.value("throughput_samples_per_s", 0.0)) / 1e6),
                      fmt::format("{:.2f}", number(latency.value("p50", 0.0)) * 1e3),
                      fmt::format("{:.2f}", number(latency.value("p99", 0.0)) * 1e3),
                      fmt::format("{}", run.value("windows", 0)), fmt::format("{:.0f}", drops)});
    }
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      // Names left-aligned, numbers right-aligned.
      line += c < 2 ? fmt::format("{:<{}}  ", row[c], width[c]) : fmt::format("{:>{}}  ", row[c], width[c]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << "\n";
  }
  for (const auto& line : skipped) out << line << "\n";
  return out.str();
}

}  // namespace sensorgate::compare
