// Strict reading of one JSON object of a scenario: every value is type- and range-checked,
// errors name the file and the JSON path ($.function.max_inflight), and finish() rejects
// keys nobody read, so a typo never silently falls back to a default.
//
// Each reader also writes every value it returns, defaults included, into a "resolved"
// object: the fully explicit scenario that summary.json records.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/input_error.hpp"

namespace faascale {

// Parses a whole JSON document; a syntax error names the file, line and column. Documents
// nesting deeper than 64 levels are refused.
nlohmann::json parse_json_text(const std::string& text, const std::string& file);
nlohmann::json read_json_file(const std::string& file);

// Refuses (InputError) an input path that is a folder, missing, or not a regular file
// (a device such as /dev/zero, a FIFO), or, when max_bytes > 0, larger than that.
// `what` names the kind of file for the message ("JSON file", "trace file").
void check_input_file(const std::string& path, const char* what, std::uintmax_t max_bytes = 0);

// A relative input path is tried against the working directory, then against `base_dir`
// (the scenario file's folder) and each folder above it, so scenarios/x.json finds traces/
// from anywhere. Returns `path` unchanged when nothing exists.
std::string resolve_input_path(const std::string& path, const std::string& base_dir);

// A file's whole content; InputError naming it if it cannot be opened.
std::string read_file_bytes(const std::string& path);
// A short digest of some bytes (16 hex digits; not cryptographic): tells damaged or edited
// content from the content it was taken of.
std::string content_digest(std::string_view bytes);

// Every file a scenario reads: the scenario file, and each "path" (traces,
// distributions) and "checkpoint" (an agent autoscaler) in its resolved JSON, found as the
// readers find them (resolve_input_path from the scenario's folder).
std::vector<std::string> input_files(const std::string& scenario_path, const nlohmann::json& resolved);

// A short description of a value for messages: scalars as JSON (cut at 60 characters),
// containers by their kind.
std::string describe_json(const nlohmann::json& v);
// An integer, or a float with an integral value (as 3.0) that a double holds exactly.
bool is_integral(const nlohmann::json& v);

class JsonReader {
 public:
  // `value` must outlive the reader; `resolved` receives what was read.
  JsonReader(const nlohmann::json& value, std::string file, std::string path, nlohmann::json& resolved);

  bool has(std::string_view key) const;
  double number(std::string_view key, double min, double max, std::optional<double> fallback = {});
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::optional<std::int64_t> fallback = {});
  std::string text(std::string_view key, std::optional<std::string> fallback = {});
  bool boolean(std::string_view key, std::optional<bool> fallback = {});
  // Any JSON value (required), for the caller to check; recorded in the resolved object.
  const nlohmann::json& raw(std::string_view key);
  // A string that must be one of `allowed`.
  std::string choice(std::string_view key, std::initializer_list<std::string_view> allowed,
                     std::optional<std::string> fallback = {});
  std::string choice(std::string_view key, const std::vector<std::string>& allowed,
                     std::optional<std::string> fallback = {});
  // A nested object, read by its own reader (required unless `optional_empty`, which reads
  // a missing key as {}).
  JsonReader object(std::string_view key, bool optional_empty = false);
  // Throws for every key of the object that no call above asked for.
  void finish() const;

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  std::string path_of(std::string_view key) const;
  const std::string& file() const { return file_; }

 private:
  const nlohmann::json* lookup(std::string_view key);

  const nlohmann::json& value_;
  std::string file_;
  std::string path_;
  nlohmann::json& resolved_;
  std::set<std::string, std::less<>> read_;
  nlohmann::json empty_ = nlohmann::json::object();
};

// Applies a command-line override "a.b.c=VALUE" to a scenario document. VALUE is parsed as
// JSON when it is valid JSON and taken as a string otherwise. Intermediate objects must
// exist (so a misspelt section is an error, not a new key).
void apply_override(nlohmann::json& doc, const std::string& assignment);

}  // namespace faascale
