// Implementation of json_reader.hpp.
#include "sim/json_reader.hpp"

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace faascale {
namespace {

// The deepest nesting of arrays and objects accepted: deeper documents are rejected before
// parsing, since no scenario or trace needs them and they could exhaust the stack.
constexpr int kMaxDepth = 64;

// The byte offset at which `text` first nests deeper than kMaxDepth, if it does.
std::optional<std::size_t> too_deep_at(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

// Converts a byte offset into "line L, column C" (both 1-based).
std::string line_column(const std::string& text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {}", line, column);
}

}  // namespace

std::string resolve_input_path(const std::string& path, const std::string& base_dir) {
  namespace fs = std::filesystem;
  if (fs::path(path).is_absolute() || fs::exists(path) || base_dir.empty()) return path;
  for (fs::path dir = fs::absolute(base_dir);; dir = dir.parent_path()) {
    if (fs::exists(dir / path)) return (dir / path).string();
    if (dir == dir.parent_path()) return path;
  }
}

bool is_integral(const nlohmann::json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e15;
}

std::string describe_json(const nlohmann::json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  std::string s = v.dump();
  if (s.size() > 60) {
    s.resize(57);
    s.append("...");
  }
  return s;
}

nlohmann::json parse_json_text(const std::string& text, const std::string& file) {
  if (const auto at = too_deep_at(text)) {
    throw InputError(fmt::format("{}: {}: arrays and objects nest deeper than {} levels; flatten the document.",
                                 file, line_column(text, *at), kMaxDepth));
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number too large for a double ("1e999"): nlohmann gives no position for it.
    throw InputError(fmt::format("{}: {}. Numbers must fit in a double (about 1.8e308).", file, e.what()));
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann reports the offset one past the offending byte.
    const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    const auto cut = what.find("syntax error");
    throw InputError(fmt::format("{}: {}: malformed JSON ({}). Fix the syntax at or just before that position.", file,
                                 line_column(text, offset),
                                 cut == std::string::npos ? what : what.substr(cut)));
  }
}

void check_input_file(const std::string& path, const char* what, std::uintmax_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (fs::is_directory(status)) {
    throw InputError(fmt::format("{}: is a folder, not a {}. Give the path of a file.", path, what));
  }
  if (!fs::exists(status)) throw InputError(fmt::format("{}: cannot open the file (it does not exist). Check the path.", path));
  if (!fs::is_regular_file(status)) {
    throw InputError(fmt::format("{}: is not a regular file (a device, pipe or socket); give a {}.", path, what));
  }
  if (max_bytes > 0 && fs::file_size(path, ec) > max_bytes) {
    throw InputError(fmt::format("{}: larger than {} MiB, too large for a {}.", path, max_bytes >> 20, what));
  }
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the file. Check the path.", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string content_digest(std::string_view bytes) {
  return fmt::format("{:016x}", std::hash<std::string_view>{}(bytes));
}

std::vector<std::string> input_files(const std::string& scenario_path, const nlohmann::json& resolved) {
  std::vector<std::string> files = {scenario_path};
  const std::string base_dir = std::filesystem::path(scenario_path).parent_path().string();
  const std::function<void(const nlohmann::json&)> visit = [&](const nlohmann::json& j) {
    if (!j.is_structured()) return;
    for (const auto& [key, value] : j.items()) {
      if ((key == "path" || key == "checkpoint") && value.is_string()) {
        files.push_back(resolve_input_path(value.get<std::string>(), base_dir));
      }
      visit(value);
    }
  };
  visit(resolved);
  return files;
}

nlohmann::json read_json_file(const std::string& file) {
  // JSON documents are read whole: scenarios and counts lists are small (a year of
  // 30-second counts is about 6 MB).
  constexpr std::uintmax_t kMaxJsonBytes = std::uintmax_t{256} << 20;
  check_input_file(file, "JSON file", kMaxJsonBytes);
  return parse_json_text(read_file_bytes(file), file);
}

JsonReader::JsonReader(const nlohmann::json& value, std::string file, std::string path,
                       nlohmann::json& resolved)
    : value_(value), file_(std::move(file)), path_(std::move(path)), resolved_(resolved) {
  if (!value_.is_object()) {
    throw InputError(fmt::format("{}: {}: expected a JSON object, got {}.", file_, path_, describe_json(value_)));
  }
  if (!resolved_.is_object()) resolved_ = nlohmann::json::object();
}

std::string JsonReader::path_of(std::string_view key) const { return fmt::format("{}.{}", path_, key); }

void JsonReader::fail(std::string_view key, const std::string& problem) const {
  throw InputError(fmt::format("{}: {}: {}", file_, path_of(key), problem));
}

bool JsonReader::has(std::string_view key) const { return value_.contains(key); }

const nlohmann::json* JsonReader::lookup(std::string_view key) {
  read_.emplace(key);
  auto it = value_.find(key);
  return it == value_.end() ? nullptr : &*it;
}

double JsonReader::number(std::string_view key, double min, double max, std::optional<double> fallback) {
  const nlohmann::json* v = lookup(key);
  double result;
  if (v == nullptr) {
    if (!fallback) fail(key, fmt::format("missing; add a number in [{}, {}].", min, max));
    result = *fallback;
  } else {
    if (!v->is_number()) fail(key, fmt::format("expected a number in [{}, {}], got {}.", min, max, describe_json(*v)));
    result = v->get<double>();
    if (!std::isfinite(result) || result < min || result > max) {
      fail(key, fmt::format("{} is out of range; use a number in [{}, {}].", describe_json(*v), min, max));
    }
  }
  resolved_[std::string(key)] = result;
  return result;
}

std::int64_t JsonReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                 std::optional<std::int64_t> fallback) {
  const nlohmann::json* v = lookup(key);
  std::int64_t result;
  if (v == nullptr) {
    if (!fallback) fail(key, fmt::format("missing; add an integer in [{}, {}].", min, max));
    result = *fallback;
  } else {
    if (!is_integral(*v)) fail(key, fmt::format("expected an integer in [{}, {}], got {}.", min, max, describe_json(*v)));
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
      fail(key, fmt::format("{} is out of range; use an integer in [{}, {}].", describe_json(*v), min, max));
    }
    result = v->is_number_float() ? static_cast<std::int64_t>(v->get<double>()) : v->get<std::int64_t>();
    if (result < min || result > max) {
      fail(key, fmt::format("{} is out of range; use an integer in [{}, {}].", describe_json(*v), min, max));
    }
  }
  resolved_[std::string(key)] = result;
  return result;
}

std::string JsonReader::text(std::string_view key, std::optional<std::string> fallback) {
  const nlohmann::json* v = lookup(key);
  std::string result;
  if (v == nullptr) {
    if (!fallback) fail(key, "missing; add a string.");
    result = *fallback;
  } else {
    if (!v->is_string()) fail(key, fmt::format("expected a string, got {}.", describe_json(*v)));
    result = v->get<std::string>();
  }
  resolved_[std::string(key)] = result;
  return result;
}

bool JsonReader::boolean(std::string_view key, std::optional<bool> fallback) {
  const nlohmann::json* v = lookup(key);
  if (v == nullptr && !fallback) fail(key, "missing; add true or false.");
  if (v != nullptr && !v->is_boolean()) fail(key, fmt::format("expected true or false, got {}.", describe_json(*v)));
  const bool result = v ? v->get<bool>() : *fallback;
  resolved_[std::string(key)] = result;
  return result;
}

const nlohmann::json& JsonReader::raw(std::string_view key) {
  const nlohmann::json* v = lookup(key);
  if (v == nullptr) fail(key, "missing; see docs/scenarios.md for its form.");
  resolved_[std::string(key)] = *v;
  return *v;
}

std::string JsonReader::choice(std::string_view key, std::initializer_list<std::string_view> allowed,
                               std::optional<std::string> fallback) {
  return choice(key, std::vector<std::string>(allowed.begin(), allowed.end()), std::move(fallback));
}

std::string JsonReader::choice(std::string_view key, const std::vector<std::string>& allowed,
                               std::optional<std::string> fallback) {
  std::string options;
  for (const auto& a : allowed) options += fmt::format("{}\"{}\"", options.empty() ? "" : ", ", a);
  const nlohmann::json* v = lookup(key);
  if (v != nullptr && !v->is_string()) fail(key, fmt::format("expected one of {}, got {}.", options, describe_json(*v)));
  if (v == nullptr && !fallback) fail(key, fmt::format("missing; add one of {}.", options));
  std::string result = v ? v->get<std::string>() : *fallback;
  bool ok = false;
  for (const auto& a : allowed) ok = ok || a == result;
  if (!ok) fail(key, fmt::format("\"{}\" is not supported; use one of {}.", result, options));
  resolved_[std::string(key)] = result;
  return result;
}

JsonReader JsonReader::object(std::string_view key, bool optional_empty) {
  const nlohmann::json* v = lookup(key);
  if (v == nullptr) {
    if (!optional_empty) fail(key, "missing; add this object (see docs/scenarios.md).");
    v = &empty_;
  }
  return JsonReader(*v, file_, path_of(key), resolved_[std::string(key)]);
}

void JsonReader::finish() const {
  for (const auto& [key, unused] : value_.items()) {
    if (read_.find(key) == read_.end()) {
      fail(key, "unknown key; remove it or check its spelling against docs/scenarios.md (docs/training.md for \"train\").");
    }
  }
}

void apply_override(nlohmann::json& doc, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(fmt::format("--set {}: expected PATH=VALUE, for example function.max_inflight=8.", assignment));
  }
  const std::string path = assignment.substr(0, eq);
  const std::string raw = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::accept(raw) ? nlohmann::json::parse(raw) : nlohmann::json(raw);
  nlohmann::json* node = &doc;
  std::string walked = "$";
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw InputError(fmt::format("--set {}: empty key in the path.", assignment));
    if (!node->is_object()) {
      throw InputError(fmt::format("--set {}: {} is not an object, so it has no key \"{}\".", assignment, walked, key));
    }
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    if (!node->contains(key)) {
      throw InputError(fmt::format("--set {}: {} has no section \"{}\".", assignment, walked, key));
    }
    node = &(*node)[key];
    walked += "." + key;
    start = dot + 1;
  }
}

}  // namespace faascale
