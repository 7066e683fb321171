#pragma once
// The reproducers in fuzz/regressions/<target>/ (docs/fuzzing.md): inputs a fuzz target
// once crashed on. The unit test next to each fix feeds the same bytes to the library, so
// the finding stays fixed in every test run (scripts/fuzz.sh replays them through the fuzz
// targets as well).

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace sensorgate::testing {

/// The bytes of fuzz/regressions/`name` (e.g. "recording/plain-number-beyond-float-range").
inline std::string fuzz_reproducer(const std::string& name) {
  const auto path = std::filesystem::path(SENSORGATE_SOURCE_DIR) / "fuzz" / "regressions" / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read fuzz reproducer " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace sensorgate::testing
