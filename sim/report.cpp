// Implementation of report.hpp.
#include "sim/report.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace faascale {
namespace {

double ratio(double num, double den) { return den > 0 ? num / den : std::numeric_limits<double>::quiet_NaN(); }

// CSV cell for a number; NaN (no data) is written as "nan", as Prometheus writes it.
std::string cell(double v) { return std::isnan(v) ? "nan" : fmt::format("{:.6g}", v); }

}  // namespace

nlohmann::json run_metrics(const Simulation& sim) {
  const RunTotals t = sim.totals();
  const double duration = sim.now();
  const double cpu_request = sim.scenario().function.cpu_request_cores;
  nlohmann::json m;
  m["simulated_s"] = duration;
  m["requests"] = t.arrivals;
  m["completed"] = t.ok;
  m["failed"] = t.timed_out;
  m["rejected"] = t.rejected;
  m["in_flight_at_end"] = sim.in_system();
  m["success_ratio"] = ratio(static_cast<double>(t.ok), static_cast<double>(t.finished()));
  m["latency_mean_s"] = ratio(t.ok_latency_sum_s, static_cast<double>(t.ok));
  m["latency_p50_s"] = sim.ok_latency().quantile(0.50);
  m["latency_p95_s"] = sim.ok_latency().quantile(0.95);
  m["latency_p99_s"] = sim.ok_latency().quantile(0.99);
  m["latency_quantile_relative_error"] = QuantileSketch::kRelativeError;
  m["wait_mean_s"] = ratio(t.wait_sum_s, static_cast<double>(t.dispatched));
  m["waited_fraction"] = ratio(static_cast<double>(t.waited), static_cast<double>(t.dispatched));
  m["cold_starts"] = t.cold_starts;
  m["cold_start_affected_requests"] = t.cold_start_affected;
  m["replica_seconds"] = t.replica_seconds;
  m["ready_replicas_mean"] = ratio(t.ready_pod_seconds, duration);
  m["cpu_core_seconds"] = t.cpu_core_seconds;
  m["cpu_utilization_mean"] = ratio(t.cpu_core_seconds, t.ready_pod_seconds * cpu_request);
  m["in_system_mean"] = ratio(t.in_system_seconds, duration);
  m["events"] = t.events;
  sim.add_metrics(m);
  return m;
}

nlohmann::json run_summary(const Simulation& sim, const std::string& git_revision, double wall_s) {
  nlohmann::json s;
  s["format_version"] = kFormatVersion;
  s["git_revision"] = git_revision;
  s["scenario"] = sim.scenario().resolved;
  s["metrics"] = run_metrics(sim);
  s["wall_s"] = wall_s;
  return s;
}

std::string windows_csv_header() {
  return "window,start_s,end_s,arrivals,requests,ok,rejected,timed_out,avg_execution_s,success_pct,"
         "requests_per_s,ready_replicas,desired_replicas,pods,avg_cpu,avg_mem,gateway_p95_s,client_p95_s,"
         "client_p99_s,wait_mean_s,cold_starts,cold_start_affected,queued,in_flight\n";
}

std::string windows_csv_row(const WindowMetrics& w) {
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", w.index,
                     cell(w.start_s), cell(w.end_s), w.arrivals, w.requests(), w.ok, w.rejected, w.timed_out,
                     cell(w.avg_execution_s()), cell(w.success_pct()), cell(w.requests_per_s()), w.ready_replicas,
                     w.desired_replicas, w.pods, cell(w.avg_cpu()), cell(w.avg_mem()), cell(w.gateway_p95_s()),
                     cell(w.client_p95_s), cell(w.client_p99_s), cell(ratio(w.wait_sum_s, static_cast<double>(w.dispatched))),
                     w.cold_starts, w.cold_start_affected, w.queued, w.in_flight);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const std::filesystem::path target(path_);
  // Hidden, and named by process, so two runs writing into one folder never share one.
  const std::string hidden = fmt::format(".{}.{}.tmp", target.filename().string(), ::getpid());
  temporary_ = (target.parent_path() / hidden).string();
  const int fd = create_new_file(temporary_);
  file_ = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
  if (file_ == nullptr) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(fmt::format("{}: cannot create ({}). Check that the folder is writable.", temporary_,
                                         std::strerror(errno)));
  }
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(temporary_.c_str());
  }
}

void AtomicFile::write(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    throw std::runtime_error(fmt::format("{}: write failed ({}).", temporary_, std::strerror(errno)));
  }
}

void AtomicFile::commit() {
  const bool flushed = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed || std::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary_.c_str());
    throw std::runtime_error(fmt::format("{}: could not be written ({}).", path_, reason));
  }
}

int create_new_file(const std::string& path) {
  const auto create = [&] { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644); };
  int fd = create();
  if (fd < 0 && errno == EEXIST && ::unlink(path.c_str()) == 0) fd = create();
  return fd;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text);
  file.commit();
}

}  // namespace faascale
