// Implementation of scenario.hpp.
#include "sim/scenario.hpp"

#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "sim/keepalive_policy.hpp"
#include "sim/policy.hpp"
#include "sim/trace_files.hpp"

namespace faascale {
namespace {

// Limits that keep one run's cost bounded: events cost O(max_inflight) in a pod, and
// windows.csv has a row per window.
constexpr std::int64_t kMaxInflight = 1000;
constexpr double kMaxWindows = 1e7;
constexpr double kMaxDuration = 1e10;

// A name becomes a folder (runs/<name>): letters, digits, '.', '_' and '-', not leading '.'.
bool is_safe_name(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

FunctionSpec read_function(JsonReader r, const std::string& base_dir) {
  FunctionSpec f;
  f.service = Distribution::read(r.object("service"), base_dir);
  f.cold_start = Distribution::read(r.object("cold_start"), base_dir);
  f.max_inflight = r.integer("max_inflight", 1, kMaxInflight, 1);
  f.timeout_s = r.number("timeout_s", 1e-6, 1e12, 30.0);
  f.cpu_request_cores = r.number("cpu_request_cores", 1e-3, 1e4, 0.1);  // Kubernetes' smallest unit: 1m
  f.cpu_limit_cores = r.number("cpu_limit_cores", 0.0, 1e4, 0.0);
  f.memory_request_mib = r.number("memory_request_mib", 1e-6, 1e9, 256.0);
  if (r.has("memory_azure_2019")) {
    // The application's average allocated memory from an Azure 2019 memory file.
    if (r.has("memory_idle_mib")) r.fail("memory_azure_2019", "give memory_idle_mib or memory_azure_2019, not both.");
    JsonReader m = r.object("memory_azure_2019");
    const std::string path = resolve_input_path(m.text("path"), base_dir);
    const AzureFunction app = AzureFunction::read(m, true);
    m.finish();
    try {
      f.memory_idle_mib = load_azure_2019_memory(path, app);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{} (read for {} in {})", e.what(), m.path_of("path"), m.file()));
    }
  } else {
    f.memory_idle_mib = r.number("memory_idle_mib", 0.0, 1e9, 0.25 * f.memory_request_mib);
  }
  f.memory_per_request_mib = r.number("memory_per_request_mib", 0.0, 1e9, 0.0625 * f.memory_request_mib);
  r.finish();
  return f;
}

PlatformSpec read_platform(JsonReader r) {
  PlatformSpec p;
  p.kind = r.choice("kind", {"openfaas", "keepalive"}, "openfaas");
  if (p.kind == "keepalive") {
    p.expiration_s = r.number("expiration_s", 0, 1e9, 600);
    p.max_concurrency = r.integer("max_concurrency", 0, 10'000'000, 0);
    r.finish();
    return p;
  }
  p.min_replicas = r.integer("min_replicas", 0, 100000, 1);
  p.max_replicas = r.integer("max_replicas", 1, 100000, 24);
  p.initial_replicas = r.integer("initial_replicas", 0, 100000, p.min_replicas);  // may be below min
  p.queue_capacity = r.integer("queue_capacity", 0, 1'000'000'000, 0);
  const std::string routing = r.choice("routing", {"random", "round-robin", "least-loaded"}, "random");
  p.routing = routing == "random" ? Routing::random : routing == "round-robin" ? Routing::round_robin : Routing::least_loaded;
  r.finish();
  if (p.min_replicas > p.max_replicas) {
    r.fail("min_replicas", fmt::format("{} exceeds max_replicas {}; make min_replicas <= max_replicas.",
                                       p.min_replicas, p.max_replicas));
  }
  if (p.initial_replicas > p.max_replicas) {
    r.fail("initial_replicas", fmt::format("{} exceeds max_replicas {}.", p.initial_replicas, p.max_replicas));
  }
  return p;
}

}  // namespace

Scenario Scenario::from_json(const nlohmann::json& doc, const std::string& file) {
  Scenario s;
  s.file = file;
  nlohmann::json resolved = nlohmann::json::object();
  JsonReader r(doc, file, "$", resolved);
  s.name = r.text("name", std::filesystem::path(file).stem().string());
  if (!is_safe_name(s.name)) {
    r.fail("name", fmt::format("\"{}\" cannot name an output folder; use 1 to 100 letters, digits, '.', '_' or "
                               "'-', not starting with '.'.", s.name));
  }
  s.seed = static_cast<std::uint64_t>(r.integer("seed", 0, std::int64_t{1} << 53, 1));
  s.control_interval_s = r.number("control_interval_s", 1e-3, 1e6, 30.0);
  const std::string base_dir = std::filesystem::path(file).parent_path().string();
  s.trace = TraceSpec::read(r.object("trace"), base_dir);
  s.function = read_function(r.object("function"), base_dir);
  // By default a run lasts as long as its trace; a per-request trace's last arrival is
  // an instant, so the run goes on until that request has finished or timed out (at most
  // an hour more).
  double span = s.trace.span_s();
  if (s.trace.requests) span += std::min(s.function.timeout_s, 3600.0);
  s.duration_s = r.number("duration_s", 1e-3, kMaxDuration,
                          std::isfinite(span) ? std::optional<double>(span) : std::nullopt);
  if (s.duration_s > kMaxDuration) {
    r.fail("duration_s", fmt::format("the trace spans {} s (with its repeats), more than {} s; set duration_s or "
                                     "fewer repeats.", s.duration_s, kMaxDuration));
  }
  if (s.duration_s / s.control_interval_s > kMaxWindows) {
    r.fail("control_interval_s", fmt::format("{} s windows over {} s make more than {} windows; use longer windows "
                                             "or a shorter run.", s.control_interval_s, s.duration_s, kMaxWindows));
  }
  s.platform = read_platform(r.object("platform", true));
  if (s.platform.kind == "keepalive") {
    // Optional: a keep-alive policy (default: fixed keep-alive of platform.expiration_s).
    if (r.has("autoscaler")) {
      r.object("autoscaler");
      s.autoscaler = doc.at("autoscaler");
      make_keepalive_policy(s.autoscaler, s.platform.expiration_s, file, resolved["autoscaler"]);
    }
    r.finish();
  } else {
    r.object("autoscaler");  // marks the key as read; make_policy() validates its content
    r.finish();
    s.autoscaler = doc.at("autoscaler");
    make_policy(s.autoscaler, s.policy_context(), file, resolved["autoscaler"]);  // validates before any output
  }
  s.resolved = std::move(resolved);
  return s;
}

std::unique_ptr<Policy> Scenario::make_autoscaler() const {
  if (autoscaler.is_null() || platform.kind != "openfaas") return nullptr;
  nlohmann::json unused;
  return make_policy(autoscaler, policy_context(), file, unused);
}

}  // namespace faascale
