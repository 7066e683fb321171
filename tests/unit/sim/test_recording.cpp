#include "sensorgate/sim/recording.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <numbers>
#include <random>

#include "sensorgate/testing/fuzz_reproducer.hpp"
#include "sensorgate/testing/processes.hpp"

namespace sensorgate::sim {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The real recordings (read-only, each folder has a README with the facts checked here).
fs::path shared_data() {
  return SENSORGATE_SHARED_DATA_DIR;
}

bool have_shared_data() {
  return fs::is_directory(shared_data());
}
constexpr const char* kNoSharedData = "no shared data next to the source tree (../shared/data); CI provides it";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const RecordingError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string invalid_argument_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

// --- A minimal EDF/EDF+ writer, so the EDF tests do not depend on the shared data -------

struct EdfSignal {
  std::string label;
  std::string unit = "uV";
  std::size_t samples_per_record = 4;
  std::vector<std::int16_t> digital;  ///< all records; physical = digital / 10
};

std::string edf_field(std::string_view text, std::size_t width) {
  std::string field(text.substr(0, width));
  field.resize(width, ' ');
  return field;
}

// An EDF+ time-stamped annotation list: "+onset\x15duration\x14text\x14\0" (no duration
// when it is empty, no text for a record's time-keeping TAL).
std::string tal(std::string_view onset, std::string_view duration, std::string_view text) {
  std::string out(onset);
  if (!duration.empty()) out += '\x15' + std::string(duration);
  out += '\x14';
  out += text;
  out += '\x14';
  out += '\0';
  return out;
}

// `record_tals` non-empty makes an EDF+C file with an annotation signal holding them (one
// string per record, after the record's time-keeping TAL).
std::string make_edf(const std::vector<EdfSignal>& signals, std::size_t records,
                     const std::vector<std::string>& record_tals = {}, std::string_view annotation_prefilter = "") {
  const bool plus = !record_tals.empty();
  constexpr std::size_t kAnnotationSamples = 40;
  std::vector<EdfSignal> all = signals;
  if (plus) all.push_back(EdfSignal{"EDF Annotations", "", kAnnotationSamples, {}});
  std::string h = edf_field("0", 8);
  h += edf_field(plus ? "X X X X" : "test patient", 80);
  h += edf_field(plus ? "Startdate 01-JAN-2020 X X X" : "test recording", 80);
  h += edf_field("01.01.20", 8) + edf_field("00.00.00", 8);
  h += edf_field(std::to_string(256 * (all.size() + 1)), 8);
  h += edf_field(plus ? "EDF+C" : "", 44);
  h += edf_field(std::to_string(records), 8) + edf_field("1", 8) + edf_field(std::to_string(all.size()), 4);
  for (const auto& s : all) h += edf_field(s.label, 16);
  for (std::size_t i = 0; i < all.size(); ++i) h += edf_field("", 80);
  for (const auto& s : all) h += edf_field(s.unit, 8);
  for (const auto& s : all) h += edf_field(plus && &s == &all.back() ? "-1" : "-3276.8", 8);
  for (const auto& s : all) h += edf_field(plus && &s == &all.back() ? "1" : "3276.7", 8);
  for (std::size_t i = 0; i < all.size(); ++i) h += edf_field("-32768", 8);
  for (std::size_t i = 0; i < all.size(); ++i) h += edf_field("32767", 8);
  for (const auto& s : all) h += edf_field(plus && &s == &all.back() ? annotation_prefilter : "", 80);
  for (const auto& s : all) h += edf_field(std::to_string(s.samples_per_record), 8);
  for (std::size_t i = 0; i < all.size(); ++i) h += edf_field("", 32);
  for (std::size_t r = 0; r < records; ++r) {
    for (const auto& s : signals) {
      for (std::size_t i = 0; i < s.samples_per_record; ++i) {
        const auto value = static_cast<std::uint16_t>(s.digital.at(r * s.samples_per_record + i));
        h += static_cast<char>(value & 0xFF);
        h += static_cast<char>(value >> 8);
      }
    }
    if (plus) {
      std::string annotations = tal("+" + std::to_string(r), "", "") + record_tals.at(r);
      annotations.resize(2 * kAnnotationSamples, '\0');
      h += annotations;
    }
  }
  return h;
}

std::vector<std::int16_t> ramp(int n, int start) {
  std::vector<std::int16_t> values;
  values.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) values.push_back(static_cast<std::int16_t>(start + i));
  return values;
}

class ReadRecording : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, std::string_view content) {
    auto path = dir_.path() / name;
    std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
    return path;
  }

  testing::TempDir dir_;
};

ReadOptions at_rate(double hz) {
  ReadOptions options;
  options.sample_rate_hz = hz;
  return options;
}

ReadOptions spec(std::string channels, std::optional<double> rate_hz = std::nullopt) {
  ReadOptions options;
  options.channel_spec = std::move(channels);
  options.sample_rate_hz = rate_hz;
  return options;
}

ReadOptions named(std::vector<std::string> channels, std::optional<double> rate_hz = std::nullopt) {
  ReadOptions options;
  options.channel_names = std::move(channels);
  options.sample_rate_hz = rate_hz;
  return options;
}

ReadOptions resampled(ReadOptions options, double hz) {
  options.resample_to_hz = hz;
  return options;
}

// --- Real recordings --------------------------------------------------------------------

TEST_F(ReadRecording, EdfPlus_ReadsAnnotationsAndChannels) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto started = std::chrono::steady_clock::now();
  const auto rec = read_recording(shared_data() / "physionet-eegmmidb-S001/S001R03.edf");
  const auto load_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  RecordProperty("load_ms", std::to_string(load_ms));

  // README: 64 EEG signals (the annotation signal is not a channel), 160 Hz, 125 s.
  ASSERT_EQ(rec.channels(), 64U);
  EXPECT_EQ(rec.sample_rate_hz, 160.0);
  EXPECT_EQ(rec.frames(), 125U * 160U);
  EXPECT_TRUE(rec.labels.empty());
  // Labels without BCI2000's padding dots, in the README's order.
  EXPECT_EQ(rec.channel_names[0], "Fc5");
  EXPECT_EQ(rec.channel_names[8], "C3");
  EXPECT_EQ(rec.channel_names[10], "Cz");
  EXPECT_EQ(rec.channel_names[21], "Fp1");
  EXPECT_EQ(rec.channel_names[63], "Iz");
  // Physical range -8092..8092 uV; per-channel SD tens of uV.
  for (const float x : rec.samples) ASSERT_LE(std::abs(x), 8092.0F);
  double sum = 0;
  double sum_sq = 0;
  for (std::size_t f = 0; f < rec.frames(); ++f) {
    const double x = rec.samples[f * rec.channels() + 60];  // O1
    sum += x;
    sum_sq += x * x;
  }
  const auto n = static_cast<double>(rec.frames());
  const double sd = std::sqrt(sum_sq / n - (sum / n) * (sum / n));
  EXPECT_GT(sd, 10.0);
  EXPECT_LT(sd, 200.0);

  // 30 events: 15 x T0 (4.2 s) alternating with 15 x T1/T2 (4.1 s), starting "+0 T0 4.2", "+4.2 T2 4.1".
  ASSERT_EQ(rec.annotations.size(), 30U);
  EXPECT_DOUBLE_EQ(rec.annotations[0].onset_s, 0.0);
  EXPECT_DOUBLE_EQ(rec.annotations[0].duration_s, 4.2);
  EXPECT_EQ(rec.annotations[0].text, "T0");
  EXPECT_DOUBLE_EQ(rec.annotations[1].onset_s, 4.2);
  EXPECT_DOUBLE_EQ(rec.annotations[1].duration_s, 4.1);
  EXPECT_EQ(rec.annotations[1].text, "T2");
  EXPECT_DOUBLE_EQ(rec.annotations[2].onset_s, 8.3);
  for (std::size_t i = 0; i < rec.annotations.size(); ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(rec.annotations[i].text, "T0") << i;
    } else {
      EXPECT_TRUE(rec.annotations[i].text == "T1" || rec.annotations[i].text == "T2") << i;
    }
  }
}

TEST_F(ReadRecording, EdfPlus_SelectsChannelsByNameAndSpec) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto path = shared_data() / "physionet-eegmmidb-S001/S001R03.edf";
  const auto all = read_recording(path);
  const auto by_name = read_recording(path, spec("C3,cz,C4"));
  ASSERT_THAT(by_name.channel_names, ElementsAre("C3", "Cz", "C4"));
  const auto last = read_recording(path, named({"Iz"}));
  ASSERT_THAT(last.channel_names, ElementsAre("Iz"));
  for (std::size_t f = 0; f < all.frames(); ++f) {
    ASSERT_EQ(by_name.samples[f * 3 + 0], all.samples[f * 64 + 8]);
    ASSERT_EQ(by_name.samples[f * 3 + 1], all.samples[f * 64 + 10]);
    ASSERT_EQ(by_name.samples[f * 3 + 2], all.samples[f * 64 + 12]);
    ASSERT_EQ(last.samples[f], all.samples[f * 64 + 63]);
  }
  EXPECT_EQ(by_name.annotations.size(), 30U);
  EXPECT_EQ(read_recording(path, spec("0-15")).channels(), 16U);
}

TEST_F(ReadRecording, EdfPlus_ResampledTo256Hz_KeepsDurationAndAnnotations) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto rec =
      read_recording(shared_data() / "physionet-eegmmidb-S001/S001R03.edf", resampled(spec("0-15"), 256.0));
  EXPECT_EQ(rec.sample_rate_hz, 256.0);
  EXPECT_EQ(rec.frames(), 125U * 256U);
  EXPECT_EQ(rec.channels(), 16U);
  EXPECT_EQ(rec.annotations.size(), 30U);
}

TEST_F(ReadRecording, Arff_EyeState_ChannelsAndLabels) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto rec = read_recording(shared_data() / "uci-eeg-eye-state/EEG Eye State.arff", at_rate(128.0));
  ASSERT_EQ(rec.channels(), 14U);
  EXPECT_THAT(rec.channel_names,
              ElementsAre("AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4"));
  ASSERT_EQ(rec.frames(), 14980U);
  EXPECT_EQ(rec.sample_rate_hz, 128.0);
  EXPECT_FLOAT_EQ(rec.samples[0], 4329.23F);
  ASSERT_EQ(rec.labels.size(), 14980U);
  EXPECT_EQ(std::ranges::count(rec.labels, 0), 8257);
  EXPECT_EQ(std::ranges::count(rec.labels, 1), 6723);
  // The first label runs: 188 x 0, 683 x 1, 465 x 0.
  EXPECT_EQ(rec.labels[187], 0);
  EXPECT_EQ(rec.labels[188], 1);
  EXPECT_EQ(rec.labels[870], 1);
  EXPECT_EQ(rec.labels[871], 0);
}

TEST_F(ReadRecording, Arff_WithoutRate_AsksForIt) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto message = error_of([] { (void)read_recording(shared_data() / "uci-eeg-eye-state/EEG Eye State.arff"); });
  EXPECT_THAT(message, HasSubstr("EEG Eye State.arff"));
  EXPECT_THAT(message, HasSubstr("sample_rate_hz"));
}

TEST_F(ReadRecording, OpenBci_ExgChannelsAndRateFromHeader) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto path = shared_data() / "openbci-gui-sample/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt";
  const auto rec = read_recording(path);
  ASSERT_EQ(rec.channels(), 8U);
  EXPECT_EQ(rec.channel_names[0], "EXG Channel 0");
  EXPECT_EQ(rec.channel_names[7], "EXG Channel 7");
  EXPECT_EQ(rec.sample_rate_hz, 250.0);
  ASSERT_EQ(rec.frames(), 22490U);
  EXPECT_TRUE(rec.labels.empty());
  EXPECT_FLOAT_EQ(rec.samples[0], 61379.36F);
  EXPECT_FLOAT_EQ(rec.samples[7], 1740.11F);
  EXPECT_FLOAT_EQ(rec.samples[8], 60973.46F);

  EXPECT_THAT(error_of([&] { (void)read_recording(path, at_rate(256.0)); }),
              HasSubstr("sample rate is 250 Hz but ReadOptions::sample_rate_hz is 256 Hz"));
}

TEST_F(ReadRecording, PlainText_BonnSegment_OneChannelNamedAfterTheFile) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto rec = read_recording(shared_data() / "bonn-epilepsy/A_Z/Z001.txt", at_rate(173.61));
  ASSERT_THAT(rec.channel_names, ElementsAre("Z001"));
  ASSERT_EQ(rec.frames(), 4097U);
  EXPECT_EQ(rec.samples[0], 12.0F);
  EXPECT_EQ(rec.samples[1], 22.0F);
  EXPECT_EQ(rec.samples[2], 35.0F);
  for (const float x : rec.samples) {
    ASSERT_GE(x, -288.0F);  // the README's range for set A
    ASSERT_LE(x, 294.0F);
  }
  const auto at_256 = read_recording(shared_data() / "bonn-epilepsy/A_Z/Z001.txt", resampled(at_rate(173.61), 256.0));
  EXPECT_EQ(at_256.frames(), 6041U);  // round(4097 * 256 / 173.61)
}

TEST_F(ReadRecording, PlainText_MichiganFiveValuesPerLine) {
  if (!have_shared_data()) GTEST_SKIP() << kNoSharedData;
  const auto rec = read_recording(shared_data() / "michigan-seizure-8ch/c3.txt", at_rate(100.0));
  ASSERT_THAT(rec.channel_names, ElementsAre("c3"));
  EXPECT_EQ(rec.frames(), 32678U);
  EXPECT_FLOAT_EQ(rec.samples[0], -2.551564F);
}

// --- Self-written files -----------------------------------------------------------------

TEST_F(ReadRecording, Edf_PhysicalValuesInMicrovolts_DotsStrippedFromLabels) {
  const auto path = write("two.edf", make_edf({{"Cz..", "uV", 4, ramp(8, -4)}, {"EOG", "mV", 4, ramp(8, 100)}}, 2));
  const auto rec = read_recording(path);
  ASSERT_THAT(rec.channel_names, ElementsAre("Cz", "EOG"));
  EXPECT_EQ(rec.sample_rate_hz, 4.0);
  ASSERT_EQ(rec.frames(), 8U);
  EXPECT_TRUE(rec.annotations.empty());
  for (std::size_t f = 0; f < 8; ++f) {
    EXPECT_NEAR(rec.samples[f * 2], (-4.0 + static_cast<double>(f)) / 10.0, 1e-4);
    EXPECT_NEAR(rec.samples[f * 2 + 1], (100.0 + static_cast<double>(f)) / 10.0 * 1000.0, 1e-2);  // mV -> uV
  }
}

TEST_F(ReadRecording, EdfPlus_SelfWritten_AnnotationsWithAndWithoutDuration) {
  const auto path = write("plus.edf", make_edf({{"C3", "uV", 4, ramp(8, 0)}}, 2,
                                               {tal("+0.5", "1.25", "T1"), tal("+1.75", "", "Recording note")}));
  const auto rec = read_recording(path);
  ASSERT_THAT(rec.channel_names, ElementsAre("C3"));
  ASSERT_EQ(rec.annotations.size(), 2U);
  EXPECT_DOUBLE_EQ(rec.annotations[0].onset_s, 0.5);
  EXPECT_DOUBLE_EQ(rec.annotations[0].duration_s, 1.25);
  EXPECT_EQ(rec.annotations[0].text, "T1");
  EXPECT_DOUBLE_EQ(rec.annotations[1].onset_s, 1.75);
  EXPECT_DOUBLE_EQ(rec.annotations[1].duration_s, 0.0);
  EXPECT_EQ(rec.annotations[1].text, "Recording note");
}

// BCI2000's EDF+ export (the PhysioNet EEGMMIDB files) writes a prefilter text into the
// annotation signal's header, which EDFlib alone rejects.
TEST_F(ReadRecording, EdfPlus_AnnotationSignalWithPrefilterText_ReadAnyway) {
  const auto path = write(
      "bci2000.edf", make_edf({{"C3", "uV", 4, ramp(8, 0)}}, 2, {tal("+0", "4.2", "T0"), ""}, "HP:0Hz LP:0Hz N:0Hz"));
  const auto rec = read_recording(path);
  EXPECT_THAT(rec.channel_names, ElementsAre("C3"));
  EXPECT_EQ(rec.frames(), 8U);
  ASSERT_EQ(rec.annotations.size(), 1U);
  EXPECT_EQ(rec.annotations[0].text, "T0");
}

TEST_F(ReadRecording, Edf_MixedRates_ErrorUnlessOneRateSelected) {
  const auto path = write(
      "mixed.edf", make_edf({{"A", "uV", 4, ramp(8, 0)}, {"B", "uV", 2, ramp(4, 0)}, {"C", "uV", 4, ramp(8, 9)}}, 2));
  const auto message = error_of([&] { (void)read_recording(path); });
  EXPECT_THAT(message, HasSubstr("mixed.edf"));
  EXPECT_THAT(message, HasSubstr("different sample rates"));
  const auto rec = read_recording(path, spec("C,A"));
  EXPECT_THAT(rec.channel_names, ElementsAre("C", "A"));
  EXPECT_EQ(rec.sample_rate_hz, 4.0);
  EXPECT_NEAR(rec.samples[0], 0.9, 1e-4);
  EXPECT_EQ(read_recording(path, spec("1")).sample_rate_hz, 2.0);
}

TEST_F(ReadRecording, Edf_TruncatedHeaderOrData_ErrorNamesFile) {
  const std::string edf = make_edf({{"C3", "uV", 4, ramp(8, 0)}}, 2);
  const auto header_cut = write("header-cut.edf", edf.substr(0, 100));
  const auto message = error_of([&] { (void)read_recording(header_cut); });
  EXPECT_THAT(message, HasSubstr("header-cut.edf: "));
  EXPECT_THAT(message, HasSubstr("EDF"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("data-cut.edf", edf.substr(0, edf.size() - 3))); }),
              HasSubstr("not a valid EDF/BDF file"));
}

TEST_F(ReadRecording, GarbageBytes_Error) {
  std::mt19937 rng(42);
  std::string garbage(4096, '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  EXPECT_THAT(error_of([&] { (void)read_recording(write("garbage.edf", garbage)); }), HasSubstr("garbage.edf: "));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("garbage.bin", garbage), at_rate(100)); }),
              HasSubstr("binary data"));
  std::string printable(4096, ' ');
  for (auto& c : printable) c = static_cast<char>(' ' + rng() % 95);
  EXPECT_THAT(error_of([&] { (void)read_recording(write("garbage.txt", printable), at_rate(100)); }),
              HasSubstr("garbage.txt"));
}

// Every prefix of a valid file is either read or rejected with a RecordingError: no
// crash, no other exception (the sanitizer job runs this too).
TEST_F(ReadRecording, EveryTruncation_ReadOrRecordingError) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"t.edf", make_edf({{"C3", "uV", 4, ramp(8, 0)}}, 2, {tal("+0.5", "1", "T1"), ""})},
      {"t.csv", "% Sample Rate = 4 Hz\nC3, C4, label\n1, 2, 0\n3, 4, 1\n"},
      {"t.arff", "@RELATION x\n@ATTRIBUTE a NUMERIC\n@ATTRIBUTE class {0,1}\n@DATA\n1,0\n2,1\n"},
      {"t.txt", "1 2 3\n4 5\n"}};
  for (const auto& [name, content] : files) {
    for (std::size_t n = 0; n <= content.size(); ++n) {
      const auto path = write(name, content.substr(0, n));
      try {
        (void)read_recording(path, at_rate(4.0));
      } catch (const RecordingError&) {
        // rejected with a message: fine
      }
    }
  }
}

// Found by fuzz_recording (fuzz/regressions/recording/plain-number-beyond-float-range):
// "1e39" is a finite double but infinity as the float32 sample it was stored as, and the
// replay would have streamed infinite samples. Every text format refuses it now.
TEST_F(ReadRecording, NumberBeyondFloatRange_RefusedInEveryTextFormat) {
  const std::string plain = sensorgate::testing::fuzz_reproducer("recording/plain-number-beyond-float-range").substr(2);
  ASSERT_EQ(plain, "1e39");
  EXPECT_THAT(error_of([&] { (void)read_recording(write("big.txt", plain), at_rate(250)); }),
              HasSubstr("big.txt:1: \"1e39\" is not a finite number"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("big.csv", "C3,C4\n1,-1e39\n"), at_rate(250)); }),
              HasSubstr("big.csv:2: column \"C4\": \"-1e39\" is not a finite number"));
  EXPECT_THAT(error_of([&] {
                (void)read_recording(write("big.arff", "@RELATION r\n@ATTRIBUTE a NUMERIC\n@DATA\n3.5e38\n"),
                                     at_rate(250));
              }),
              HasSubstr("big.arff:4: attribute \"a\": \"3.5e38\" is not a finite number"));
  // The largest float still reads.
  EXPECT_EQ(read_recording(write("max.txt", "3.4028234e38\n"), at_rate(250)).samples.size(), 1U);
}

// Found by fuzz_recording's long run (fuzz/regressions/recording/edf-physical-range-beyond-float):
// an EDF+ header whose physical range ("1e39") scales the digital values beyond float32,
// so the samples became infinite. The EDF reader refuses such a channel now.
TEST_F(ReadRecording, EdfPhysicalRangeBeyondFloat_Refused) {
  const std::string edf = sensorgate::testing::fuzz_reproducer("recording/edf-physical-range-beyond-float").substr(2);
  ASSERT_EQ(edf.substr(0, 8), "0       ") << "an EDF header";
  EXPECT_THAT(error_of([&] { (void)read_recording(write("huge.edf", edf)); }),
              HasSubstr("is not a finite 32-bit float: check the header's physical minimum and maximum"));
}

TEST_F(ReadRecording, GenericCsv_LabelColumn_CommaOrWhitespace) {
  for (const auto* text : {"time_note,C3,C4,label\n1,10.5,-3,0\n2,11,-4,1\n\n3,+12,-5e1,1\n",
                           "# exported\ntime_note C3\tC4 label\r\n1 10.5 -3 0\r\n2 11 -4 1\r\n3 12 -50 1\r\n"}) {
    const auto rec = read_recording(write("generic.csv", text), at_rate(256));
    ASSERT_THAT(rec.channel_names, ElementsAre("time_note", "C3", "C4"));
    ASSERT_EQ(rec.frames(), 3U);
    EXPECT_THAT(rec.samples, ElementsAre(1, 10.5F, -3, 2, 11, -4, 3, 12, -50));
    EXPECT_THAT(rec.labels, ElementsAre(0, 1, 1));
    EXPECT_EQ(rec.sample_rate_hz, 256.0);
  }
}

TEST_F(ReadRecording, GenericCsv_RateComment_NoOptionNeeded) {
  const auto rec = read_recording(write("rated.csv", "%Sample Rate = 512 Hz\nFp1,Fp2\n1,2\n"), {});
  EXPECT_EQ(rec.sample_rate_hz, 512.0);
}

TEST_F(ReadRecording, Csv_NonNumericCell_ErrorNamesLineColumnAndCell) {
  const auto path = write("bad.csv", "C3,C4\n1,2\n3,oops\n");
  const auto message = error_of([&] { (void)read_recording(path, at_rate(256)); });
  EXPECT_THAT(message, HasSubstr("bad.csv:3: "));
  EXPECT_THAT(message, HasSubstr("\"C4\""));
  EXPECT_THAT(message, HasSubstr("\"oops\" is not a finite number"));
}

TEST_F(ReadRecording, Csv_MalformedRows_ErrorsNameLines) {
  EXPECT_THAT(error_of([&] { (void)read_recording(write("short.csv", "C3,C4\n1,2\n3\n"), at_rate(1)); }),
              HasSubstr("short.csv:3: expected 2 fields as in the header (line 1), found 1"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("nan.csv", "C3\n1\nnan\n"), at_rate(1)); }),
              HasSubstr("nan.csv:3: "));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("label.csv", "C3,label\n1,x\n"), at_rate(1)); }),
              HasSubstr("label.csv:2: label \"x\" is not an integer"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("noheader.csv", "1,2\n3,4\n"), at_rate(1)); }),
              HasSubstr("noheader.csv:1: a row of numbers where the header row"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("norows.csv", "C3,C4\n"), at_rate(1)); }),
              HasSubstr("no data rows"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("rate.csv", "%Sample Rate = fast\nC3\n1\n")); }),
              HasSubstr("rate.csv:1: expected \"Sample Rate = <positive number> Hz\""));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("plain.txt", "1 2\n3 x\n"), at_rate(1)); }),
              HasSubstr("plain.txt:2: \"x\" is not a finite number"));
}

TEST_F(ReadRecording, Arff_Malformed_Errors) {
  const std::string head = "% comment\n@RELATION r\n@ATTRIBUTE 'a b' NUMERIC\n@ATTRIBUTE label {open,closed}\n";
  const auto rec = read_recording(write("ok.arff", head + "@DATA\n1.5,closed\n2,'open'\n"), at_rate(128));
  EXPECT_THAT(rec.channel_names, ElementsAre("a b"));
  EXPECT_THAT(rec.labels, ElementsAre(1, 0));  // not integers: the index in the declaration

  EXPECT_THAT(error_of([&] { (void)read_recording(write("nodata.arff", head + "1,open\n"), at_rate(128)); }),
              HasSubstr("nodata.arff:5: expected @RELATION, @ATTRIBUTE or @DATA"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("nodata2.arff", head), at_rate(128)); }),
              HasSubstr("nodata2.arff: no @DATA section"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("missing.arff", head + "@DATA\n?,open\n"), at_rate(128)); }),
              HasSubstr("missing.arff:6: attribute \"a b\": \"?\" (a missing value) is not supported"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("value.arff", head + "@DATA\n1,ajar\n"), at_rate(128)); }),
              HasSubstr("value.arff:6: label \"ajar\" is not one of the declared values"));
  EXPECT_THAT(
      error_of([&] { (void)read_recording(write("string.arff", "@ATTRIBUTE s STRING\n@DATA\nx\n"), at_rate(128)); }),
      HasSubstr("string.arff:1: attribute \"s\" has type \"STRING\""));
}

TEST_F(ReadRecording, ChannelSelection_Errors) {
  const auto path = write("three.csv", "C3,Cz,C4\n1,2,3\n");
  EXPECT_THAT(error_of([&] { (void)read_recording(path, spec("0-3", 1)); }),
              HasSubstr("three.csv: channel spec \"0-3\": channel 3 is out of range (the file has 3 channels: C3, "
                        "Cz, C4, numbered from 0)"));
  EXPECT_THAT(error_of([&] { (void)read_recording(path, named({"Pz"}, 1)); }), HasSubstr("no channel named \"Pz\""));
  auto both = named({"C3"}, 1);
  both.channel_spec = "0";
  EXPECT_THAT(error_of([&] { (void)read_recording(path, both); }), HasSubstr("not both"));
  const auto rec = read_recording(path, named({"c4", "C3"}, 1));
  EXPECT_THAT(rec.channel_names, ElementsAre("C4", "C3"));
  EXPECT_THAT(rec.samples, ElementsAre(3, 1));
}

TEST_F(ReadRecording, MissingOrEmptyFile_Error) {
  EXPECT_THAT(error_of([&] { (void)read_recording(dir_.path() / "absent.edf"); }),
              HasSubstr("absent.edf: cannot read"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("empty.csv", ""), at_rate(1)); }),
              HasSubstr("empty.csv: no data"));
  EXPECT_THAT(error_of([&] { (void)read_recording(dir_.path()); }), HasSubstr("not a regular file"));
  EXPECT_THAT(error_of([&] { (void)read_recording(write("x.csv", "C3\n1\n"), at_rate(-5)); }),
              HasSubstr("must be a positive number"));
}

// --- parse_channel_spec -------------------------------------------------------------------

TEST(ParseChannelSpec, IndicesRangesAndNames) {
  const std::vector<std::string> names = {"Fp1", "Fp2", "C3", "Cz", "C4", "EEG Fpz-Cz", "O1", "O2"};
  EXPECT_THAT(parse_channel_spec("0-3", names), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(parse_channel_spec("0,2,5-7", names), ElementsAre(0, 2, 5, 6, 7));
  EXPECT_THAT(parse_channel_spec(" C3, cz ,C4", names), ElementsAre(2, 3, 4));
  EXPECT_THAT(parse_channel_spec("EEG Fpz-Cz,1", names), ElementsAre(5, 1));
  EXPECT_THAT(parse_channel_spec("4-4", names), ElementsAre(4));
}

TEST(ParseChannelSpec, Errors) {
  const std::vector<std::string> names = {"C3", "Cz", "CZ", "C4"};
  const auto error = [&](std::string_view spec) {
    return invalid_argument_of([&] { (void)parse_channel_spec(spec, names); });
  };
  EXPECT_THAT(error("0-4"), HasSubstr("channel 4 is out of range"));
  EXPECT_THAT(error("99999999999999999999999"), HasSubstr("out of range"));
  EXPECT_THAT(error("3-1"), HasSubstr("range \"3-1\" is descending"));
  EXPECT_THAT(error("0,,1"), HasSubstr("empty item"));
  EXPECT_THAT(error(""), HasSubstr("empty item"));
  EXPECT_THAT(error("3,c4"), HasSubstr("channel 3 (\"C4\") is selected twice"));
  EXPECT_THAT(error("Pz"), HasSubstr("no channel named \"Pz\""));
  EXPECT_THAT(error("cz"), HasSubstr("channel name \"cz\" is ambiguous"));
  EXPECT_THAT(parse_channel_spec("CZ", names), ElementsAre(2));  // an exact match wins
}

// --- resample -------------------------------------------------------------------------------

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// One channel: the sum of unit sines at `frequencies_hz`.
Recording sines(double rate_hz, double seconds, const std::vector<double>& frequencies_hz) {
  Recording rec;
  rec.channel_names = {"x"};
  rec.sample_rate_hz = rate_hz;
  const auto frames = static_cast<std::size_t>(std::llround(rate_hz * seconds));
  for (std::size_t f = 0; f < frames; ++f) {
    double value = 0;
    for (const double hz : frequencies_hz) value += std::sin(kTwoPi * hz * static_cast<double>(f) / rate_hz);
    rec.samples.push_back(static_cast<float>(value));
  }
  return rec;
}

// Frames more than 1 s from either end: the resampler holds the end frames, which
// disturbs the output within its filter's half-width (< 0.3 s at these rates).
std::span<const float> interior(const Recording& rec) {
  const auto margin = static_cast<std::size_t>(rec.sample_rate_hz);
  return std::span(rec.samples).subspan(margin, rec.samples.size() - 2 * margin);
}

// max |out[n] - sin(2 pi hz n / rate)| over the interior: amplitude and phase error together.
double max_error_vs_sine(const Recording& out, double hz) {
  const auto margin = static_cast<std::size_t>(out.sample_rate_hz);
  double worst = 0;
  for (std::size_t n = margin; n + margin < out.frames(); ++n) {
    const double expected = std::sin(kTwoPi * hz * static_cast<double>(n) / out.sample_rate_hz);
    worst = std::max(worst, std::abs(out.samples[n] - expected));
  }
  return worst;
}

// RMS of the interior relative to a unit sine's, in dB.
double level_db(const Recording& out) {
  double sum_sq = 0;
  const auto values = interior(out);
  for (const float x : values) sum_sq += static_cast<double>(x) * x;
  return 20.0 * std::log10(std::sqrt(sum_sq / static_cast<double>(values.size())) * std::numbers::sqrt2);
}

TEST(Resample, Sine10Hz_UpToStreamRate_AmplitudeAndFrequencyKept) {
  for (const double from_hz : {160.0, 250.0, 173.61, 128.0}) {
    const auto out = resample(sines(from_hz, 20.0, {10.0}), 256.0);
    EXPECT_EQ(out.sample_rate_hz, 256.0);
    EXPECT_EQ(out.frames(), 20U * 256U) << from_hz;
    // Within 1e-3 of the ideal 10 Hz sine at every output instant: amplitude within 0.1 %
    // and no drift in phase, so the frequency is exact.
    const double error = max_error_vs_sine(out, 10.0);
    RecordProperty("max_error_" + std::to_string(static_cast<int>(from_hz)), std::to_string(error));
    EXPECT_LT(error, 1e-3) << from_hz << " Hz -> 256 Hz";
  }
}

TEST(Resample, Downsampling_TonesAboveNewNyquistDoNotAlias) {
  // 100 Hz is above the new Nyquist frequency in each case; unfiltered it would fold to
  // 60 Hz (256 -> 160), 28 Hz (250 -> 128) or 28 Hz (256 -> 128).
  for (const auto& [from_hz, to_hz] : {std::pair{256.0, 160.0}, std::pair{250.0, 128.0}, std::pair{256.0, 128.0}}) {
    const auto out = resample(sines(from_hz, 20.0, {100.0}), to_hz);
    const double db = level_db(out);
    RecordProperty(
        "alias_db_" + std::to_string(static_cast<int>(from_hz)) + "_" + std::to_string(static_cast<int>(to_hz)),
        std::to_string(db));
    EXPECT_LT(db, -70.0) << from_hz << " Hz -> " << to_hz << " Hz";
  }
}

TEST(Resample, Downsampling_PassbandToneKeptWhileAliasRemoved) {
  const auto out = resample(sines(256.0, 20.0, {10.0, 100.0}), 160.0);
  EXPECT_EQ(out.frames(), 20U * 160U);
  EXPECT_LT(max_error_vs_sine(out, 10.0), 1e-3);
}

TEST(Resample, DcOffset_KeptExactlyUpToTheEnds) {
  Recording rec;
  rec.channel_names = {"a", "b"};
  rec.sample_rate_hz = 250.0;
  for (int f = 0; f < 500; ++f) rec.samples.insert(rec.samples.end(), {62000.0F, -24600.5F});
  const auto out = resample(rec, 256.0);
  ASSERT_EQ(out.frames(), 512U);
  for (std::size_t f = 0; f < out.frames(); ++f) {
    ASSERT_NEAR(out.samples[f * 2], 62000.0F, 0.01F) << f;
    ASSERT_NEAR(out.samples[f * 2 + 1], -24600.5F, 0.01F) << f;
  }
}

TEST(Resample, Labels_FromTheNearestFrame_AnnotationsUnchanged) {
  const Recording rec{{"x"}, 4.0, std::vector<float>(8, 0.0F), {0, 0, 0, 0, 1, 1, 1, 1}, {{1.0, 0.5, "T1"}}};
  const auto out = resample(rec, 8.0);
  // Output frame n is at input frame n / 2; 3.5 rounds to 4.
  EXPECT_THAT(out.labels, ElementsAre(0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1));
  ASSERT_EQ(out.annotations.size(), 1U);
  EXPECT_EQ(out.annotations[0].text, "T1");
}

TEST(Resample, SameRate_Unchanged_BadRate_Throws) {
  const auto rec = sines(100.0, 1.0, {3.0});
  EXPECT_EQ(resample(rec, 100.0).samples, rec.samples);
  EXPECT_THAT(invalid_argument_of([&] { (void)resample(rec, 0.0); }), HasSubstr("rates must be positive"));
  EXPECT_THAT(invalid_argument_of([&] { (void)resample(rec, std::nan("")); }), HasSubstr("rates must be positive"));
  EXPECT_THAT(invalid_argument_of([&] { (void)resample(rec, 1e12); }), HasSubstr("more than 2^31 samples"));
}

}  // namespace
}  // namespace sensorgate::sim
