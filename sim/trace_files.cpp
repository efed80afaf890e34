// Implementation of trace_files.hpp.
#include "sim/trace_files.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace faascale {
namespace {

// Reads a CSV file a line at a time (plain commas, no quoting: the formats above have
// none), with errors that name the file, the line and the column.
class CsvFile {
 public:
  explicit CsvFile(std::string path) : path_(std::move(path)) {
    check_input_file(path_, "trace file");
    in_.open(path_, std::ios::binary);
    if (!in_) throw InputError(fmt::format("{}: cannot open the file. Check the path.", path_));
  }

  // Reads the next line into fields(); false at the end of the file (a read error is an
  // error, not an end).
  bool next() {
    if (!std::getline(in_, line_)) {
      if (in_.bad()) throw InputError(fmt::format("{}: read failed after line {}.", path_, line_number_));
      return false;
    }
    ++line_number_;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    fields_.clear();
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line_.find(',', start);
      fields_.emplace_back(std::string_view(line_).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return true;
  }
  const std::vector<std::string_view>& fields() const { return fields_; }
  bool blank() const { return line_.empty(); }

  // Checks the header line against the expected leading column names.
  void expect_header(const std::vector<std::string_view>& names) {
    if (!next()) fail("the file is empty; expected a header line");
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i >= fields_.size() || fields_[i] != names[i]) {
        fail(fmt::format("expected a header starting {}, got \"{}\"", join(names), line_.substr(0, 120)));
      }
    }
  }

  void expect_fields(std::size_t count) const {
    if (fields_.size() != count) fail(fmt::format("expected {} comma-separated fields, got {}", count, fields_.size()));
  }

  double number(std::size_t column, const char* name) const {
    const std::string_view text = fields_[column];
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0) {
      fail(fmt::format("column {} ({}): expected a non-negative number, got \"{}\"", column + 1, name,
                       text.substr(0, 40)));
    }
    return value;
  }

  std::int64_t count(std::size_t column, const char* name) const {
    const double value = number(column, name);
    if (value != std::floor(value) || value > 1e12) {
      fail(fmt::format("column {} ({}): expected a whole count, got \"{}\"", column + 1, name, fields_[column]));
    }
    return static_cast<std::int64_t>(value);
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(fmt::format("{}: line {}: {}.", path_, line_number_, problem));
  }
  const std::string& path() const { return path_; }
  std::size_t line() const { return line_number_; }
  // Replaces the current fields by `fields` (to parse a row kept from earlier).
  void use(const std::vector<std::string>& fields, std::size_t line) {
    kept_.assign(fields.begin(), fields.end());
    fields_.assign(kept_.begin(), kept_.end());
    line_number_ = line;
  }

 private:
  static std::string join(const std::vector<std::string_view>& names) {
    std::string out;
    for (auto n : names) {
      if (!out.empty()) out += ',';
      out += n;
    }
    return out;
  }

  std::string path_;
  std::ifstream in_;
  std::string line_;
  std::size_t line_number_ = 0;
  std::vector<std::string_view> fields_;
  std::vector<std::string> kept_;
};

bool same_key(const std::vector<std::string_view>& f, const AzureFunction& which, bool app_only) {
  return f[0] == which.owner && f[1] == which.app && (app_only || f[2] == which.function);
}

// Finds the selected function's line in an Azure 2019 file (after its header); the memory
// file is per application, so there only owner and app are compared. Rows count from 1,
// blank lines not counted. Returns the selected row's fields (copied), after checking,
// when selected by hashes, that no later row has the same ones.
struct FoundRow {
  std::vector<std::string> fields;
  std::size_t line;
};

std::optional<FoundRow> seek_function(CsvFile& csv, const AzureFunction& which, bool app_only = false) {
  std::optional<FoundRow> found;
  std::int64_t row = 0;
  while (csv.next()) {
    if (csv.blank()) continue;
    ++row;
    const auto& f = csv.fields();
    if (f.size() < 3) csv.fail("expected HashOwner,HashApp,... first");
    if (which.row > 0 ? row == which.row : same_key(f, which, app_only)) {
      if (found) csv.fail(fmt::format("the selection {} matches line {} too; the file has duplicates", which.describe(),
                                      found->line));
      found = FoundRow{std::vector<std::string>(f.begin(), f.end()), csv.line()};
      if (which.row > 0) break;  // rows are unique by construction
    }
  }
  return found;
}

void sort_by_arrival(std::vector<TraceRequest>& requests) {
  std::stable_sort(requests.begin(), requests.end(),
                   [](const TraceRequest& a, const TraceRequest& b) { return a.arrival_s < b.arrival_s; });
}

}  // namespace

AzureFunction AzureFunction::read(JsonReader& reader, bool app_only) {
  AzureFunction f;
  if (reader.has("row")) {
    f.row = reader.integer("row", 1, 100'000'000);
    return f;
  }
  f.owner = reader.text("hash_owner");
  f.app = reader.text("hash_app");
  if (!app_only) f.function = reader.text("hash_function");
  return f;
}

std::string AzureFunction::describe() const {
  return row > 0 ? fmt::format("data row {}", row)
                 : fmt::format("HashOwner={} HashApp={} HashFunction={}", owner, app, function);
}

std::vector<std::int64_t> load_azure_2019_counts(const std::string& path, const AzureFunction& which) {
  constexpr std::size_t kMinutes = 1440, kLeading = 4;
  CsvFile csv(path);
  csv.expect_header({"HashOwner", "HashApp", "HashFunction", "Trigger", "1"});
  csv.expect_fields(kLeading + kMinutes);
  if (csv.fields().back() != "1440") csv.fail("expected the header's last column to be 1440");
  const auto found = seek_function(csv, which);
  if (!found) throw InputError(fmt::format("{}: no function with {}; check the selection.", path, which.describe()));
  csv.use(found->fields, found->line);
  csv.expect_fields(kLeading + kMinutes);
  std::vector<std::int64_t> counts(kMinutes);
  for (std::size_t m = 0; m < kMinutes; ++m) {
    counts[m] = csv.count(kLeading + m, "invocations per minute");
    if (counts[m] > 1'000'000'000) csv.fail(fmt::format("column {}: more than 1e9 invocations in a minute", kLeading + m + 1));
  }
  return counts;
}

std::vector<std::pair<double, double>> load_azure_2019_durations(const std::string& path, const AzureFunction& which) {
  CsvFile csv(path);
  csv.expect_header({"HashOwner", "HashApp", "HashFunction", "Average", "Count", "Minimum", "Maximum",
                     "percentile_Average_0", "percentile_Average_1", "percentile_Average_25", "percentile_Average_50",
                     "percentile_Average_75", "percentile_Average_99", "percentile_Average_100"});
  const auto found = seek_function(csv, which);
  if (!found) throw InputError(fmt::format("{}: no function with {}; check the selection.", path, which.describe()));
  csv.use(found->fields, found->line);
  csv.expect_fields(14);
  const double quantiles[] = {0, 0.01, 0.25, 0.5, 0.75, 0.99, 1};
  std::vector<std::pair<double, double>> points;
  for (std::size_t i = 0; i < 7; ++i) {
    const double ms = csv.number(7 + i, "percentile, ms");
    if (!points.empty() && ms / 1000 < points.back().second) {
      csv.fail(fmt::format("column {}: percentiles must not decrease", 8 + i));
    }
    points.emplace_back(quantiles[i], ms / 1000);
  }
  return points;
}

double load_azure_2019_memory(const std::string& path, const AzureFunction& which) {
  CsvFile csv(path);
  csv.expect_header({"HashOwner", "HashApp", "SampleCount", "AverageAllocatedMb"});
  const auto found = seek_function(csv, which, true);
  if (!found) throw InputError(fmt::format("{}: no application with {}; check the selection.", path, which.describe()));
  csv.use(found->fields, found->line);
  if (csv.fields().size() < 4) csv.fail("expected at least 4 fields");
  const double mb = csv.number(3, "AverageAllocatedMb");
  if (mb > 1e9) csv.fail("column 4 (AverageAllocatedMb): more than 1e9 MiB");
  return mb;
}

std::vector<TraceRequest> load_azure_2021(const std::string& path, const std::string& app, const std::string& func) {
  CsvFile csv(path);
  csv.expect_header({"app", "func", "end_timestamp", "duration"});
  std::vector<TraceRequest> requests;
  while (csv.next()) {
    if (csv.blank()) continue;
    csv.expect_fields(4);
    const auto& f = csv.fields();
    const double end = csv.number(2, "end_timestamp");  // every row is checked
    const double duration = csv.number(3, "duration");
    if (duration > end) csv.fail("duration exceeds end_timestamp, so the request would start before the trace");
    if (f[0] != app || (!func.empty() && f[1] != func)) continue;
    requests.push_back({end - duration, duration});
  }
  if (requests.empty()) {
    throw InputError(fmt::format("{}: no invocation of app {} func \"{}\" (empty: any); check the selection.",
                                 path, app, func));
  }
  sort_by_arrival(requests);
  return requests;
}

std::vector<TraceRequest> load_requests_csv(const std::string& path) {
  CsvFile csv(path);
  csv.expect_header({"arrival_s", "duration_s"});
  std::vector<TraceRequest> requests;
  while (csv.next()) {
    if (csv.blank()) continue;
    csv.expect_fields(2);
    requests.push_back({csv.number(0, "arrival_s"), csv.number(1, "duration_s")});
  }
  if (requests.empty()) throw InputError(fmt::format("{}: no requests after the header.", path));
  sort_by_arrival(requests);
  return requests;
}

}  // namespace faascale
