#pragma once
// Recordings: real EEG files read into memory so the simulator can replay them instead of
// synthesising a signal. read_recording() picks the reader from the file's content (and
// its extension for EDF/BDF), keeps the channels asked for and optionally resamples to the
// stream's rate. Supported: EDF/EDF+/BDF (via EDFlib), generic CSV, OpenBCI GUI v6 text,
// ARFF and plain numeric text; docs/recordings.md describes each.
//
// Every problem with a file (unreadable, truncated, garbage, a bad cell, a channel that is
// not there) throws RecordingError naming the file, and the line for text formats.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sensorgate::sim {

/// A recording that cannot be read as asked; what() starts with "<file>:" or "<file>:<line>:".
class RecordingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An event in the recording (EDF+ annotations).
struct Annotation {
  double onset_s = 0;     ///< from the start of the recording
  double duration_s = 0;  ///< 0 when the file gives none
  std::string text;
};

struct Recording {
  std::vector<std::string> channel_names;
  double sample_rate_hz = 0;
  /// Frame-major: frame f, channel c is samples[f * channels() + c]. Microvolts where the
  /// file says its unit is a volt multiple (EDF), otherwise the file's own units.
  std::vector<float> samples;
  /// One label per frame (a CSV "label" column, an ARFF class attribute); empty if none.
  std::vector<int> labels;
  std::vector<Annotation> annotations;

  [[nodiscard]] std::size_t channels() const { return channel_names.size(); }
  [[nodiscard]] std::size_t frames() const { return channel_names.empty() ? 0 : samples.size() / channel_names.size(); }
};

struct ReadOptions {
  /// The rate of a file that does not state one (ARFF, CSV without a rate line, plain
  /// text); required for those. A file that states its rate must agree with it.
  std::optional<double> sample_rate_hz;
  /// Keep these channels, in this order (matched exactly, else case-insensitively).
  std::vector<std::string> channel_names;
  /// The same as a spec (see parse_channel_spec); at most one of the two may be set.
  std::string channel_spec;
  /// Resample to this rate (see resample()); nothing happens when it equals the file's.
  std::optional<double> resample_to_hz;
};

/// Reads `path` (EDF/BDF by extension or header, otherwise text: ARFF when the first line
/// that is not a comment starts with '@', plain numeric text when it is a row of numbers,
/// else a CSV with a header row). Throws RecordingError.
Recording read_recording(const std::filesystem::path& path, const ReadOptions& options = {});

/// Indices into `channel_names` for a comma-separated spec of items: an index ("3"), an
/// inclusive range ("5-7") or a channel name ("Cz", matched exactly, else
/// case-insensitively; a name may contain '-' as in "Fpz-Cz"). Throws std::invalid_argument
/// for an empty item, a descending range, an index out of range, an unknown or ambiguous
/// name, or a channel given twice.
std::vector<std::size_t> parse_channel_spec(std::string_view spec, std::span<const std::string> channel_names);

/// `recording` at `to_hz`: windowed-sinc interpolation with an anti-alias low-pass at the
/// lower of the two rates (method and accuracy in recording.cpp). Labels take the value of
/// the nearest input frame; annotations are unchanged. Throws std::invalid_argument for a
/// rate that is not finite and positive.
Recording resample(const Recording& recording, double to_hz);

}  // namespace sensorgate::sim
