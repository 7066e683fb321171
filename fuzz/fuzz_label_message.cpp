// parse_label_message: the JSON labels a labelled replay publishes beside its frames
// (`{"start_ns":N,"end_ns":N,"label":N}` on <prefix>/<device>/labels), then what the MQTT
// ingest does with an accepted one: LabelBook::add. Invariants: a refusal says why; an
// accepted label has end_ns > start_ns and a label in [0, 2^31), keeps the topic's device
// id, prints back to JSON that parses to the same label, and once in a LabelBook is the
// majority label of (a window inside) its own interval.

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string>

#include "fuzz_support.hpp"
#include "sensorgate/gateway/label_book.hpp"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string payload(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto label = sensorgate::parse_label_message("dev-1", payload, error);
  if (!label) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(label->device_id == "dev-1");
  FUZZ_CHECK(label->end_ns > label->start_ns);
  FUZZ_CHECK(label->label >= 0);

  const auto printed =
      fmt::format(R"({{"start_ns":{},"end_ns":{},"label":{}}})", label->start_ns, label->end_ns, label->label);
  std::string again_error;
  const auto again = sensorgate::parse_label_message("dev-1", printed, again_error);
  FUZZ_CHECK(again && again->start_ns == label->start_ns && again->end_ns == label->end_ns &&
             again->label == label->label);

  sensorgate::LabelBook book;
  book.add(*label);
  FUZZ_CHECK(book.added() == 1);
  // A window of at most one second at the start of the interval (a gateway's windows are
  // short; the difference of two arbitrary int64 times need not fit an int64).
  constexpr std::int64_t kSecond = 1'000'000'000;
  const bool long_interval = label->start_ns <= std::numeric_limits<std::int64_t>::max() - kSecond &&
                             label->end_ns > label->start_ns + kSecond;
  const std::int64_t window_end = long_interval ? label->start_ns + kSecond : label->end_ns;
  const auto majority = book.majority("dev-1", label->start_ns, window_end);
  FUZZ_CHECK(majority && *majority == label->label);
  FUZZ_CHECK(!book.majority("dev-2", label->start_ns, window_end));
  return 0;
}
