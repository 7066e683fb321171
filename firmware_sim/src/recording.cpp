#include "sensorgate/sim/recording.hpp"

#include <edflib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <numbers>
#include <numeric>
#include <sstream>

namespace sensorgate::sim {
namespace {

namespace fs = std::filesystem;

constexpr auto npos = std::string_view::npos;

[[noreturn]] void fail(const fs::path& path, std::string_view problem) {
  throw RecordingError(path.string() + ": " + std::string(problem));
}

[[noreturn]] void fail_at(const fs::path& path, std::size_t line, std::string_view problem) {
  throw RecordingError(path.string() + ":" + std::to_string(line) + ": " + std::string(problem));
}

// A field as an error message shows it: quoted, cut short, bytes that are not printable
// ASCII as '?', so that garbage input cannot make the message itself unreadable.
std::string shown(std::string_view field) {
  constexpr std::size_t kMaxShown = 40;
  std::string out = "\"";
  for (const char c : field.substr(0, kMaxShown)) out += (c >= ' ' && c <= '~') ? c : '?';
  if (field.size() > kMaxShown) out += "...";
  return out + "\"";
}

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

// The whole field as a finite number. from_chars takes no leading '+', which some writers
// emit, and accepts "nan"/"inf", which no recording should contain.
std::optional<double> parse_number(std::string_view field) {
  field = trim(field);
  if (field.size() > 1 && field.front() == '+' && field[1] != '-') field.remove_prefix(1);
  if (field.empty()) return std::nullopt;
  double value = 0;
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (ec != std::errc{} || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Whether `value` stays finite as the float32 sample it is stored as (1e39 would become
// infinity; NaN is not finite either).
bool fits_float32(double value) {
  return std::abs(value) <= static_cast<double>(std::numeric_limits<float>::max());
}

// A cell that becomes a sample: a finite number that fits a float32.
std::optional<double> parse_sample(std::string_view field) {
  const auto value = parse_number(field);
  if (!value || !fits_float32(*value)) return std::nullopt;
  return value;
}

std::optional<int> parse_int(std::string_view field) {
  field = trim(field);
  int value = 0;
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (field.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// A NUL-terminated char array from a C struct, without reading past its end.
std::string_view c_string(std::span<const char> field) {
  return {field.data(), static_cast<std::size_t>(std::ranges::find(field, '\0') - field.begin())};
}

// ---------------------------------------------------------------------------------------
// Channel selection

std::string describe_channels(std::span<const std::string> names) {
  constexpr std::size_t kMaxListed = 8;
  std::string out = std::to_string(names.size()) + " channel" + (names.size() == 1 ? "" : "s");
  for (std::size_t i = 0; i < std::min(names.size(), kMaxListed); ++i) out += (i == 0 ? ": " : ", ") + names[i];
  if (names.size() > kMaxListed) out += ", ...";
  return out;
}

// The one channel called `name`: exact matches first, then case-insensitive ones, because
// montages spell the same site differently ("FC5", "Fc5").
std::size_t find_channel(std::string_view name, std::span<const std::string> names) {
  for (const bool exact : {true, false}) {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!(exact ? names[i] == name : iequals(names[i], name))) continue;
      if (found) {
        throw std::invalid_argument("channel name " + shown(name) + " is ambiguous: channels " +
                                    std::to_string(*found) + " and " + std::to_string(i) + " match it");
      }
      found = i;
    }
    if (found) return *found;
  }
  throw std::invalid_argument("no channel named " + shown(name) + " (the file has " + describe_channels(names) + ")");
}

// Selected channel indices, each in range and at most once.
class Selection {
 public:
  Selection(std::string_view what, std::span<const std::string> names) : what_(what), names_(names) {}

  void add(std::size_t index) {
    if (index >= names_.size()) {
      throw std::invalid_argument(what_ + ": channel " + std::to_string(index) + " is out of range (the file has " +
                                  describe_channels(names_) + ", numbered from 0)");
    }
    if (std::ranges::find(indices_, index) != indices_.end()) {
      throw std::invalid_argument(what_ + ": channel " + std::to_string(index) + " (" + shown(names_[index]) +
                                  ") is selected twice");
    }
    indices_.push_back(index);
  }
  [[nodiscard]] std::vector<std::size_t> take() { return std::move(indices_); }

 private:
  std::string what_;
  std::span<const std::string> names_;
  std::vector<std::size_t> indices_;
};

std::size_t parse_index(std::string_view digits, std::string_view spec) {
  std::size_t value = 0;
  const char* end = digits.data() + digits.size();
  if (std::from_chars(digits.data(), end, value).ec != std::errc{}) {
    throw std::invalid_argument("channel spec " + shown(spec) + ": index " + shown(digits) + " is out of range");
  }
  return value;
}

// Splits at commas into trimmed fields.
void split_commas(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (std::size_t start = 0;;) {
    const auto comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == npos ? npos : comma - start)));
    if (comma == npos) return;
    start = comma + 1;
  }
}

// Splits at runs of blanks.
void split_blanks(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (auto pos = line.find_first_not_of(" \t\r"); pos != npos; pos = line.find_first_not_of(" \t\r", pos)) {
    const auto end = line.find_first_of(" \t\r", pos);
    fields.push_back(line.substr(pos, end == npos ? npos : end - pos));
    pos = end;
  }
}

std::vector<std::size_t> select_channels(const fs::path& path, const ReadOptions& options,
                                         std::span<const std::string> names) {
  try {
    if (!options.channel_names.empty()) {
      Selection selection("channel_names", names);
      for (const auto& name : options.channel_names) selection.add(find_channel(name, names));
      return selection.take();
    }
    if (!options.channel_spec.empty()) return parse_channel_spec(options.channel_spec, names);
  } catch (const std::invalid_argument& e) {
    fail(path, e.what());
  }
  std::vector<std::size_t> all(names.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  return all;
}

double resolve_rate(const fs::path& path, std::optional<double> file_rate_hz, const ReadOptions& options) {
  if (file_rate_hz && options.sample_rate_hz &&
      std::abs(*file_rate_hz - *options.sample_rate_hz) > 1e-9 * *file_rate_hz) {
    fail(path, "the file's sample rate is " + number_text(*file_rate_hz) + " Hz but ReadOptions::sample_rate_hz is " +
                   number_text(*options.sample_rate_hz) + " Hz");
  }
  if (file_rate_hz) return *file_rate_hz;
  if (options.sample_rate_hz) return *options.sample_rate_hz;
  fail(path, "the file does not state its sample rate: set ReadOptions::sample_rate_hz");
}

// Column and attribute names that hold a per-frame label instead of a channel.
bool is_label_name(std::string_view name) {
  return iequals(name, "label") || iequals(name, "class") || iequals(name, "eyeDetection");
}

// ---------------------------------------------------------------------------------------
// EDF / EDF+ / BDF via EDFlib

std::mutex& edflib_mutex() {
  static std::mutex mutex;
  return mutex;
}

class EdfFile {
 public:
  explicit EdfFile(int handle) : handle_(handle) {}
  ~EdfFile() { edfclose_file(handle_); }
  EdfFile(const EdfFile&) = delete;
  EdfFile& operator=(const EdfFile&) = delete;
  [[nodiscard]] int handle() const { return handle_; }

 private:
  int handle_;
};

std::string edf_open_error(int code) {
  std::string text;
  switch (code) {
    case EDFLIB_MALLOC_ERROR: text = "out of memory"; break;
    case EDFLIB_NO_SUCH_FILE_OR_DIRECTORY: text = "cannot open the file"; break;
    case EDFLIB_FILE_CONTAINS_FORMAT_ERRORS:
      text = "not a valid EDF/BDF file (malformed or truncated header, or a file size that does not match it)";
      break;
    case EDFLIB_MAXFILES_REACHED: text = "too many EDF files open"; break;
    case EDFLIB_FILE_READ_ERROR: text = "read error"; break;
    case EDFLIB_FILE_IS_DISCONTINUOUS: text = "discontinuous EDF+D/BDF+D files are not supported"; break;
    default: text = "EDFlib could not open it"; break;
  }
  return text + " (EDFlib error " + std::to_string(code) + ")";
}

// EDF states each signal's unit; volts and their multiples become microvolts, anything
// else (no unit, or not a voltage) keeps the file's values.
double microvolts_per_unit(std::string_view unit) {
  unit = trim(unit);
  if (unit == "nV") return 1e-3;
  if (unit == "mV") return 1e3;
  if (unit == "V") return 1e6;
  return 1.0;
}

// BCI2000's EDF export pads labels with dots ("Cz..", "Fc5."): they are not part of the name.
std::string edf_channel_name(std::span<const char> label) {
  std::string_view name = trim(c_string(label));
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return std::string(name);
}

// BCI2000's EDF+ export (PhysioNet's EEG Motor Movement/Imagery files among others) puts a
// prefilter text ("HP:0Hz LP:0Hz N:0Hz") in the header of the "EDF Annotations" signal,
// where EDF+ wants blanks, and EDFlib rejects the whole file as malformed. Returns the
// file with those fields blanked, or nothing when its header has no such field.
std::optional<std::string> with_blank_annotation_prefilters(std::string_view content) {
  constexpr std::size_t kFixedHeader = 256;
  constexpr std::size_t kLabelWidth = 16;
  constexpr std::size_t kPrefilterWidth = 80;
  constexpr std::size_t kBeforePrefilters = 16 + 80 + 5 * 8;  // label, transducer, unit, 4 limits
  if (content.size() < kFixedHeader) return std::nullopt;
  const auto signals_text = trim(content.substr(252, 4));
  if (!all_digits(signals_text)) return std::nullopt;
  const auto signals = static_cast<std::size_t>(std::stoi(std::string(signals_text)));
  if (content.size() < kFixedHeader * (signals + 1)) return std::nullopt;
  std::string patched(content);
  bool changed = false;
  for (std::size_t i = 0; i < signals; ++i) {
    if (trim(content.substr(kFixedHeader + i * kLabelWidth, kLabelWidth)) != "EDF Annotations") continue;
    const std::size_t prefilter = kFixedHeader + signals * kBeforePrefilters + i * kPrefilterWidth;
    if (trim(content.substr(prefilter, kPrefilterWidth)).empty()) continue;
    patched.replace(prefilter, kPrefilterWidth, kPrefilterWidth, ' ');
    changed = true;
  }
  if (!changed) return std::nullopt;
  return patched;
}

// An anonymous in-memory file with `content`, for EDFlib, which reads only from a path.
// EDFlib opens it anew through /proc/self/fd, so this descriptor may close once it has.
class MemoryFile {
 public:
  explicit MemoryFile(std::string_view content) : fd_(memfd_create("sensorgate-recording", MFD_CLOEXEC)) {
    for (std::size_t done = 0; fd_ >= 0 && done < content.size();) {
      const ssize_t n = ::write(fd_, content.data() + done, content.size() - done);
      if (n <= 0) {
        ::close(fd_);
        fd_ = -1;
      } else {
        done += static_cast<std::size_t>(n);
      }
    }
  }
  ~MemoryFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  [[nodiscard]] std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

bool looks_like_edf(const fs::path& path, std::string_view content) {
  std::string extension = path.extension().string();
  std::ranges::transform(extension, extension.begin(), lower);
  if (extension == ".edf" || extension == ".bdf") return true;
  // The version field ("0" for EDF, 0xFF "BIOSEMI" for BDF) and the dots of the start date
  // ("dd.mm.yy" at byte 168): together they do not occur at the start of a text file.
  constexpr std::size_t kFixedHeader = 256;
  constexpr std::string_view kBdfVersion =
      "\xFF"
      "BIOSEMI";
  return content.size() >= kFixedHeader && (content.starts_with("0       ") || content.starts_with(kBdfVersion)) &&
         content[170] == '.' && content[173] == '.';
}

Recording read_edf(const fs::path& path, std::string_view content, const ReadOptions& options) {
  // EDFlib keeps one process-wide table of open files, is not thread-safe when opening or
  // closing, and refuses to open a file that is already open: one reader at a time.
  const std::lock_guard lock(edflib_mutex());
  // About 200 KiB (a slot for each of EDFLIB_MAXSIGNALS signals): not for the stack.
  auto header = std::make_unique<edf_hdr_struct>();
  if (edfopen_file_readonly(path.c_str(), header.get(), EDFLIB_READ_ALL_ANNOTATIONS) != 0) {
    const int error = header->filetype;
    const auto repaired =
        error == EDFLIB_FILE_CONTAINS_FORMAT_ERRORS ? with_blank_annotation_prefilters(content) : std::nullopt;
    if (!repaired) fail(path, edf_open_error(error));
    const MemoryFile copy(*repaired);
    if (!copy.ok()) fail(path, edf_open_error(error) + "; could not make an in-memory copy to repair it");
    if (edfopen_file_readonly(copy.path().c_str(), header.get(), EDFLIB_READ_ALL_ANNOTATIONS) != 0) {
      fail(path, edf_open_error(header->filetype));
    }
  }
  const EdfFile file(header->handle);
  // EDFlib hides the annotation signals: every signal it reports carries samples.
  const auto signals = std::span(header->signalparam).first(static_cast<std::size_t>(header->edfsignals));
  if (signals.empty()) fail(path, "the file has no signals other than annotations");

  Recording rec;
  std::vector<std::string> names;
  names.reserve(signals.size());
  for (const auto& signal : signals) names.push_back(edf_channel_name(signal.label));
  const auto selected = select_channels(path, options, names);
  const auto rate_of = [&](std::size_t s) {
    return static_cast<double>(signals[s].smp_in_datarecord) * static_cast<double>(EDFLIB_TIME_DIMENSION) /
           static_cast<double>(header->datarecord_duration);
  };
  if (header->datarecord_duration <= 0 || signals[selected[0]].smp_in_datarecord <= 0) {
    fail(path, "the data records or the samples per record are not positive");
  }
  for (const std::size_t s : selected) {
    if (signals[s].smp_in_datarecord != signals[selected[0]].smp_in_datarecord) {
      fail(path, "channels " + shown(names[selected[0]]) + " (" + number_text(rate_of(selected[0])) + " Hz) and " +
                     shown(names[s]) + " (" + number_text(rate_of(s)) +
                     " Hz) have different sample rates: select channels of one rate");
    }
    rec.channel_names.push_back(names[s]);
  }
  rec.sample_rate_hz = resolve_rate(path, rate_of(selected[0]), options);

  const auto frames = static_cast<std::size_t>(signals[selected[0]].smp_in_file);
  const std::size_t channels = selected.size();
  rec.samples.resize(frames * channels);
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  std::vector<double> buffer(std::min(frames, kChunk));
  for (std::size_t c = 0; c < channels; ++c) {
    const auto& signal = signals[selected[c]];
    const double scale = microvolts_per_unit(c_string(signal.physdimension));
    for (std::size_t done = 0; done < frames;) {
      const std::size_t n = std::min(kChunk, frames - done);
      if (edfread_physical_samples(file.handle(), static_cast<int>(selected[c]), static_cast<int>(n), buffer.data()) !=
          static_cast<int>(n)) {
        fail(path, "cannot read the samples of channel " + shown(rec.channel_names[c]));
      }
      for (std::size_t i = 0; i < n; ++i) {
        // EDFlib scales digital values by the header's physical range, which a damaged or
        // hostile header can make huge: a sample must stay finite as the float32 it becomes.
        const double value = buffer[i] * scale;
        if (!fits_float32(value)) {
          fail(path, "channel " + shown(rec.channel_names[c]) + ": sample " + std::to_string(done + i) + " (" +
                         number_text(value) +
                         ") is not a finite 32-bit float: check the header's physical minimum and maximum");
        }
        rec.samples[(done + i) * channels + c] = static_cast<float>(value);
      }
      done += n;
    }
  }

  constexpr auto kTicksPerSecond = static_cast<double>(EDFLIB_TIME_DIMENSION);
  for (long long i = 0; i < header->annotations_in_file; ++i) {
    edf_annotation_struct annotation{};
    if (edf_get_annotation(file.handle(), static_cast<int>(i), &annotation) != 0) {
      fail(path, "cannot read annotation " + std::to_string(i));
    }
    rec.annotations.push_back(
        {.onset_s = static_cast<double>(annotation.onset) / kTicksPerSecond,
         // A negative duration is EDFlib's "none given".
         .duration_s = annotation.duration_l > 0 ? static_cast<double>(annotation.duration_l) / kTicksPerSecond : 0.0,
         .text = std::string(trim(c_string(annotation.annotation)))});
  }
  return rec;
}

// ---------------------------------------------------------------------------------------
// Text formats

class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  // The next line without its "\n" or "\r\n"; false at the end.
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    auto end = text_.find('\n', pos_);
    if (end == npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    if (line.ends_with('\r')) line.remove_suffix(1);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  [[nodiscard]] std::size_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t number_ = 0;
};

bool is_comment(std::string_view trimmed_line) {
  return trimmed_line.starts_with('%') || trimmed_line.starts_with('#');
}

// "Sample Rate = 250 Hz" in a comment (the OpenBCI GUI writes "%Sample Rate = 250 Hz").
std::optional<double> rate_from_comment(const fs::path& path, std::size_t line_number, std::string_view comment) {
  constexpr std::string_view kKey = "sample rate";
  comment = trim(comment.substr(1));
  if (!istarts_with(comment, kKey)) return std::nullopt;
  std::string_view value = trim(comment.substr(kKey.size()));
  if (!value.starts_with('=')) return std::nullopt;  // prose that happens to begin with "sample rate"
  value = trim(value.substr(1));
  if (value.size() >= 2 && iequals(value.substr(value.size() - 2), "hz")) value.remove_suffix(2);
  const auto rate = parse_number(value);
  if (!rate || *rate <= 0) fail_at(path, line_number, "expected \"Sample Rate = <positive number> Hz\"");
  return rate;
}

enum class TextFormat { kArff, kPlainNumbers, kTable };

// The first line that is neither blank nor a comment decides the format; a comment before
// it may state the sample rate.
TextFormat sniff_text(const fs::path& path, std::string_view text, std::optional<double>& rate_hz) {
  LineReader lines(text);
  std::vector<std::string_view> fields;
  for (std::string_view line; lines.next(line);) {
    line = trim(line);
    if (line.empty()) continue;
    if (is_comment(line)) {
      if (auto rate = rate_from_comment(path, lines.number(), line)) rate_hz = rate;
      continue;
    }
    if (line.starts_with('@')) return TextFormat::kArff;
    split_blanks(line, fields);
    const bool numbers = std::ranges::all_of(fields, [](std::string_view f) { return parse_number(f).has_value(); });
    return numbers ? TextFormat::kPlainNumbers : TextFormat::kTable;
  }
  fail(path, "no data: the file is empty or holds only comments");
}

// One channel, named after the file: whitespace-separated numbers, any number per line
// (the Bonn sets have one per line, the Michigan files five).
Recording read_plain_numbers(const fs::path& path, std::string_view text, std::optional<double> rate_hz,
                             const ReadOptions& options) {
  Recording rec;
  rec.channel_names = {path.stem().string()};
  (void)select_channels(path, options, rec.channel_names);  // only to reject a spec naming other channels
  rec.sample_rate_hz = resolve_rate(path, rate_hz, options);
  LineReader lines(text);
  std::vector<std::string_view> fields;
  for (std::string_view line; lines.next(line);) {
    line = trim(line);
    if (line.empty() || is_comment(line)) continue;
    split_blanks(line, fields);
    for (const auto field : fields) {
      const auto value = parse_sample(field);
      if (!value) fail_at(path, lines.number(), shown(field) + " is not a finite number");
      rec.samples.push_back(static_cast<float>(*value));
    }
  }
  return rec;
}

bool is_openbci_channel(std::string_view column) {
  constexpr std::string_view kPrefix = "EXG Channel ";
  return istarts_with(column, kPrefix) && all_digits(column.substr(kPrefix.size()));
}

// A header row of column names, then one row per frame; comma-separated when the header
// has a comma, else blank-separated. Every column is a channel except a label column;
// when the header has OpenBCI's "EXG Channel N" columns, only those are channels.
Recording read_table(const fs::path& path, std::string_view text, std::optional<double> rate_hz,
                     const ReadOptions& options) {
  LineReader lines(text);
  std::string_view header;
  for (std::string_view line; header.empty() && lines.next(line);) {
    line = trim(line);
    if (!line.empty() && !is_comment(line)) header = line;
  }
  const std::size_t header_line = lines.number();
  const auto split = header.find(',') != npos ? split_commas : split_blanks;
  std::vector<std::string_view> fields;
  split(header, fields);
  if (std::ranges::all_of(fields, [](std::string_view f) { return parse_number(f).has_value(); })) {
    fail_at(path, header_line, "a row of numbers where the header row of channel names was expected");
  }
  const std::size_t columns = fields.size();
  const bool openbci = std::ranges::any_of(fields, is_openbci_channel);
  Recording rec;
  std::vector<std::string> names;
  std::vector<std::size_t> channel_columns;
  std::optional<std::size_t> label_column;
  for (std::size_t i = 0; i < columns; ++i) {
    if (is_label_name(fields[i])) {
      if (label_column) fail_at(path, header_line, "more than one label column");
      label_column = i;
    } else if (!openbci || is_openbci_channel(fields[i])) {
      if (fields[i].empty()) fail_at(path, header_line, "column " + std::to_string(i + 1) + " has no name");
      names.emplace_back(fields[i]);
      channel_columns.push_back(i);
    }
  }
  if (names.empty()) fail_at(path, header_line, "the header row names no channel columns");
  const auto selected = select_channels(path, options, names);
  for (const std::size_t s : selected) rec.channel_names.push_back(names[s]);
  rec.sample_rate_hz = resolve_rate(path, rate_hz, options);

  for (std::string_view line; lines.next(line);) {
    line = trim(line);
    if (line.empty() || is_comment(line)) continue;
    split(line, fields);
    if (fields.size() != columns) {
      fail_at(path, lines.number(),
              "expected " + std::to_string(columns) + " fields as in the header (line " + std::to_string(header_line) +
                  "), found " + std::to_string(fields.size()));
    }
    for (const std::size_t s : selected) {
      const auto field = fields[channel_columns[s]];
      const auto value = parse_sample(field);
      if (!value) {
        fail_at(path, lines.number(), "column " + shown(names[s]) + ": " + shown(field) + " is not a finite number");
      }
      rec.samples.push_back(static_cast<float>(*value));
    }
    if (label_column) {
      const auto label = parse_int(fields[*label_column]);
      if (!label) fail_at(path, lines.number(), "label " + shown(fields[*label_column]) + " is not an integer");
      rec.labels.push_back(*label);
    }
  }
  if (rec.samples.empty()) fail(path, "no data rows after the header (line " + std::to_string(header_line) + ")");
  return rec;
}

std::string_view unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

// Weka's ARFF: @RELATION, @ATTRIBUTE lines, then @DATA and comma-separated rows. NUMERIC
// (REAL, INTEGER) attributes are channels; a nominal attribute with a label name gives
// the labels: the value itself when it is an integer, else its index in the declaration.
Recording read_arff(const fs::path& path, std::string_view text, std::optional<double> rate_hz,
                    const ReadOptions& options) {
  Recording rec;
  std::vector<std::string> names;
  std::vector<std::size_t> channel_columns;
  std::optional<std::size_t> label_column;
  std::vector<std::string> label_values;
  std::vector<int> label_codes;
  std::size_t columns = 0;
  std::vector<std::size_t> selected;
  bool in_data = false;
  LineReader lines(text);
  std::vector<std::string_view> fields;
  for (std::string_view line; lines.next(line);) {
    line = trim(line);
    if (line.empty() || is_comment(line)) continue;
    const std::size_t n = lines.number();
    if (!in_data) {
      const auto keyword = line.substr(0, line.find_first_of(" \t"));
      const auto rest = trim(line.substr(keyword.size()));
      if (iequals(keyword, "@relation")) continue;
      if (iequals(keyword, "@data")) {
        if (names.empty()) fail_at(path, n, "@DATA before any NUMERIC @ATTRIBUTE");
        selected = select_channels(path, options, names);
        for (const std::size_t s : selected) rec.channel_names.push_back(names[s]);
        rec.sample_rate_hz = resolve_rate(path, rate_hz, options);
        in_data = true;
        continue;
      }
      if (!iequals(keyword, "@attribute")) {
        fail_at(path, n, "expected @RELATION, @ATTRIBUTE or @DATA, found " + shown(line));
      }
      std::string_view name;
      std::string_view type;
      if (rest.starts_with('\'') || rest.starts_with('"')) {
        const auto close = rest.find(rest.front(), 1);
        if (close == npos) fail_at(path, n, "unterminated quote in the attribute name");
        name = rest.substr(1, close - 1);
        type = trim(rest.substr(close + 1));
      } else {
        const auto end = rest.find_first_of(" \t");
        name = rest.substr(0, end);
        type = end == npos ? std::string_view{} : trim(rest.substr(end));
      }
      if (name.empty() || type.empty()) fail_at(path, n, "expected \"@ATTRIBUTE <name> <type>\"");
      if (iequals(type, "numeric") || iequals(type, "real") || iequals(type, "integer")) {
        names.emplace_back(name);
        channel_columns.push_back(columns);
      } else if (type.starts_with('{') && type.ends_with('}') && is_label_name(name) && !label_column) {
        label_column = columns;
        split_commas(type.substr(1, type.size() - 2), fields);
        for (std::size_t i = 0; i < fields.size(); ++i) {
          label_values.emplace_back(unquote(fields[i]));
          label_codes.push_back(parse_int(label_values.back()).value_or(static_cast<int>(i)));
        }
      } else {
        fail_at(path, n,
                "attribute " + shown(name) + " has type " + shown(type) +
                    ": only NUMERIC channels and one nominal label (named label, class or eyeDetection) are supported");
      }
      ++columns;
      continue;
    }
    if (line.starts_with('{')) fail_at(path, n, "sparse ARFF rows are not supported");
    split_commas(line, fields);
    if (fields.size() != columns) {
      fail_at(path, n,
              "expected " + std::to_string(columns) + " values (one per @ATTRIBUTE), found " +
                  std::to_string(fields.size()));
    }
    for (const std::size_t s : selected) {
      const auto field = fields[channel_columns[s]];
      const auto value = parse_sample(field);
      if (!value) {
        fail_at(path, n,
                "attribute " + shown(names[s]) + ": " + shown(field) +
                    (field == "?" ? " (a missing value) is not supported" : " is not a finite number"));
      }
      rec.samples.push_back(static_cast<float>(*value));
    }
    if (label_column) {
      const auto value = unquote(fields[*label_column]);
      const auto it = std::ranges::find(label_values, value);
      if (it == label_values.end()) fail_at(path, n, "label " + shown(value) + " is not one of the declared values");
      rec.labels.push_back(label_codes[static_cast<std::size_t>(it - label_values.begin())]);
    }
  }
  if (!in_data) fail(path, "no @DATA section");
  if (rec.samples.empty()) fail(path, "no data rows after @DATA");
  return rec;
}

Recording read_text(const fs::path& path, std::string_view text, const ReadOptions& options) {
  if (text.find('\0') != npos) fail(path, "binary data, and not EDF/BDF (no EDF header)");
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  std::string extension = path.extension().string();
  std::ranges::transform(extension, extension.begin(), lower);
  std::optional<double> rate_hz;
  TextFormat format = sniff_text(path, text, rate_hz);
  if (extension == ".arff") format = TextFormat::kArff;
  switch (format) {
    case TextFormat::kArff: return read_arff(path, text, rate_hz, options);
    case TextFormat::kPlainNumbers: return read_plain_numbers(path, text, rate_hz, options);
    case TextFormat::kTable: break;
  }
  return read_table(path, text, rate_hz, options);
}

std::string read_file(const fs::path& path) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error) fail(path, "cannot read: " + error.message());
  if (!fs::is_regular_file(status)) fail(path, "not a regular file");
  const auto size = fs::file_size(path, error);
  if (error) fail(path, "cannot read: " + error.message());
  std::string content(size, '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(content.data(), static_cast<std::streamsize>(size))) fail(path, "cannot read the file");
  return content;
}

// ---------------------------------------------------------------------------------------
// Resampling
//
// Band-limited interpolation (J. O. Smith, "Digital Audio Resampling Home Page", the
// method behind libsamplerate's sinc converters), for any ratio, rational or not. Output
// frame n lies at input position x = n * from / to and is
//     y(x) = sum_k in[k] h((x - k) * step) / sum_k h((x - k) * step),
// where h is a Kaiser-windowed sinc with zero crossings at the integers. `step` puts the
// low-pass cutoff (the sinc's 0.5 cycles per unit) at 0.9 x the lower of the two Nyquist
// frequencies; kZeroCrossings on each side make the transition band 0.8 .. 1.0 x that
// Nyquist frequency for a Kaiser beta that gives 80 dB of stopband attenuation
// (length = (A - 7.95) / (2.285 * 2 pi * transition width), Kaiser's formula). So:
//   - passband: flat to within 1e-4 up to 0.8 x the lower Nyquist frequency;
//   - downsampling: what lies above the new Nyquist frequency is attenuated >= 80 dB
//     before it could fold back (transition-band content, 0.8 .. 1.0 x, is attenuated
//     but does not alias);
//   - dividing by the sum of the weights makes the DC gain exactly 1 at every phase.
// h is tabulated at kTableSteps points per zero crossing and interpolated linearly: an
// error below 1e-6 of full scale. Beyond the ends the first and last frames are held (an
// EEG amplifier's DC offset would otherwise ring); that affects kZeroCrossings / step input
// frames at each end. Frequencies are exact: output frame n is at time n / to, computed,
// not accumulated. tests/unit/sim/test_recording.cpp measures the figures quoted in
// docs/recordings.md.

constexpr std::size_t kZeroCrossings = 23;
constexpr std::size_t kTableSteps = 1024;
constexpr double kKaiserBeta = 7.857;  // 0.1102 * (80 dB - 8.7)
constexpr double kCutoffFraction = 0.9;
// 8 GiB of floats: far beyond any recording, small enough to fail with a message.
constexpr double kMaxResampledSamples = 2147483648.0;

const std::vector<double>& kernel_table() {
  static const std::vector<double> table = [] {
    // One entry past the last zero crossing, for the interpolation there.
    std::vector<double> t(kZeroCrossings * kTableSteps + 2, 0.0);
    const double window_norm = std::cyl_bessel_i(0.0, kKaiserBeta);
    for (std::size_t i = 0; i <= kZeroCrossings * kTableSteps; ++i) {
      const double s = static_cast<double>(i) / kTableSteps;
      const double sinc = i == 0 ? 1.0 : std::sin(std::numbers::pi * s) / (std::numbers::pi * s);
      const double r = s / kZeroCrossings;
      t[i] = sinc * std::cyl_bessel_i(0.0, kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r))) / window_norm;
    }
    return t;
  }();
  return table;
}

}  // namespace

std::vector<std::size_t> parse_channel_spec(std::string_view spec, std::span<const std::string> channel_names) {
  const std::string what = "channel spec " + shown(spec);
  Selection selection(what, channel_names);
  std::vector<std::string_view> items;
  split_commas(spec, items);
  for (const auto item : items) {
    if (item.empty()) throw std::invalid_argument(what + " has an empty item");
    if (all_digits(item)) {
      selection.add(parse_index(item, spec));
      continue;
    }
    const auto dash = item.find('-');
    const auto from = trim(item.substr(0, dash));
    const auto to = dash == npos ? std::string_view{} : trim(item.substr(dash + 1));
    if (all_digits(from) && all_digits(to)) {
      const std::size_t first = parse_index(from, spec);
      const std::size_t last = parse_index(to, spec);
      if (first > last) throw std::invalid_argument(what + ": range " + shown(item) + " is descending");
      if (last >= channel_names.size()) selection.add(last);  // reports the range as out of range
      for (std::size_t i = first; i <= last; ++i) selection.add(i);
      continue;
    }
    selection.add(find_channel(item, channel_names));
  }
  return selection.take();
}

Recording resample(const Recording& recording, double to_hz) {
  const double from_hz = recording.sample_rate_hz;
  if (!std::isfinite(to_hz) || to_hz <= 0 || !std::isfinite(from_hz) || from_hz <= 0) {
    throw std::invalid_argument("cannot resample from " + number_text(from_hz) + " Hz to " + number_text(to_hz) +
                                " Hz: rates must be positive");
  }
  const std::size_t channels = recording.channels();
  const std::size_t frames = recording.frames();
  Recording out{.channel_names = recording.channel_names,
                .sample_rate_hz = to_hz,
                .samples = {},
                .labels = {},
                .annotations = recording.annotations};
  if (to_hz == from_hz || frames == 0) {
    out.samples = recording.samples;
    out.labels = recording.labels;
    return out;
  }
  const double out_frames_exact = std::round(static_cast<double>(frames) * to_hz / from_hz);
  if (out_frames_exact * static_cast<double>(channels) > kMaxResampledSamples) {
    throw std::invalid_argument("resampling to " + number_text(to_hz) + " Hz would give more than 2^31 samples");
  }
  const auto out_frames = static_cast<std::size_t>(out_frames_exact);
  const double ratio = from_hz / to_hz;  // input frames per output frame
  const double step = kCutoffFraction * std::min(1.0, to_hz / from_hz);
  const double half_width = static_cast<double>(kZeroCrossings) / step;
  const auto& table = kernel_table();
  const auto last_frame = static_cast<long long>(frames - 1);

  out.samples.resize(out_frames * channels);
  if (!recording.labels.empty()) out.labels.resize(out_frames);
  std::vector<double> sum(channels);
  for (std::size_t n = 0; n < out_frames; ++n) {
    const double x = static_cast<double>(n) * ratio;
    std::ranges::fill(sum, 0.0);
    double weight_sum = 0;
    const auto first = static_cast<long long>(std::ceil(x - half_width));
    const auto last = static_cast<long long>(std::floor(x + half_width));
    for (long long k = first; k <= last; ++k) {
      const double pos = std::abs(x - static_cast<double>(k)) * step * kTableSteps;
      const auto i = static_cast<std::size_t>(pos);
      if (i >= kZeroCrossings * kTableSteps) continue;
      const double weight = table[i] + (pos - static_cast<double>(i)) * (table[i + 1] - table[i]);
      const float* in = &recording.samples[static_cast<std::size_t>(std::clamp(k, 0LL, last_frame)) * channels];
      for (std::size_t c = 0; c < channels; ++c) sum[c] += weight * in[c];
      weight_sum += weight;
    }
    for (std::size_t c = 0; c < channels; ++c) out.samples[n * channels + c] = static_cast<float>(sum[c] / weight_sum);
    if (!out.labels.empty()) {
      out.labels[n] = recording.labels[static_cast<std::size_t>(std::clamp(std::llround(x), 0LL, last_frame))];
    }
  }
  return out;
}

Recording read_recording(const std::filesystem::path& path, const ReadOptions& options) {
  const auto positive = [](const std::optional<double>& rate) { return !rate || (std::isfinite(*rate) && *rate > 0); };
  if (!positive(options.sample_rate_hz)) fail(path, "ReadOptions::sample_rate_hz must be a positive number");
  if (!positive(options.resample_to_hz)) fail(path, "ReadOptions::resample_to_hz must be a positive number");
  if (!options.channel_names.empty() && !options.channel_spec.empty()) {
    fail(path, "set ReadOptions::channel_names or ReadOptions::channel_spec, not both");
  }
  const std::string content = read_file(path);
  Recording rec = looks_like_edf(path, content) ? read_edf(path, content, options) : read_text(path, content, options);
  if (options.resample_to_hz) {
    try {
      rec = resample(rec, *options.resample_to_hz);
    } catch (const std::invalid_argument& e) {
      fail(path, e.what());
    }
  }
  return rec;
}

}  // namespace sensorgate::sim
