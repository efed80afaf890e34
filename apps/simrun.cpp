// simrun: runs one scenario through the simulator and reports it.
//
//   simrun SCENARIO.json [--out DIR] [--seed N] [--set json.path=value]... [--quiet]
//
// Prints progress on long runs (stderr) and a summary table (stdout); writes
// DIR/summary.json and DIR/windows.csv atomically (DIR defaults to runs/<scenario name>).
// Exit codes: 0 success, 2 bad input (nothing is written), 1 any other failure.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/json_reader.hpp"
#include "sim/report.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int kProgressSteps = 200;           // run_until() chunks, for progress reporting
constexpr double kProgressEverySeconds = 2.0; // wall-clock gap between progress lines

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string number(double v, int decimals = 3) { return std::isnan(v) ? "n/a" : fmt::format("{:.{}f}", v, decimals); }

void print_table(const nlohmann::json& m, const faascale::Scenario& s, double wall_s) {
  const auto i = [&](const char* k) { return m[k].get<std::int64_t>(); };
  const auto d = [&](const char* k) { return m[k].is_null() ? std::nan("") : m[k].get<double>(); };
  fmt::print("\nscenario {}  seed {}  simulated {:.0f} s in {:.2f} s wall\n", s.name, s.seed, d("simulated_s"), wall_s);
  fmt::print("  {:<30} {:>14}\n", "requests", i("requests"));
  fmt::print("  {:<30} {:>14}\n", "completed (200)", i("completed"));
  fmt::print("  {:<30} {:>14}\n", "failed (504 timeout)", i("failed"));
  fmt::print("  {:<30} {:>14}\n", "rejected (429)", i("rejected"));
  fmt::print("  {:<30} {:>14}\n", "in flight at end", i("in_flight_at_end"));
  fmt::print("  {:<30} {:>13}%\n", "success", number(100.0 * d("success_ratio"), 2));
  fmt::print("  {:<30} {:>14}\n", "latency mean / p50 (s)", number(d("latency_mean_s")) + " / " + number(d("latency_p50_s")));
  fmt::print("  {:<30} {:>14}\n", "latency p95 / p99 (s)", number(d("latency_p95_s")) + " / " + number(d("latency_p99_s")));
  fmt::print("  {:<30} {:>14}\n", "wait mean (s) / waited %", number(d("wait_mean_s")) + " / " + number(100.0 * d("waited_fraction"), 1));
  fmt::print("  {:<30} {:>14}\n", "cold starts", i("cold_starts"));
  fmt::print("  {:<30} {:>14}\n", "cold-start-affected requests", i("cold_start_affected_requests"));
  fmt::print("  {:<30} {:>14}\n", "replica-seconds", number(d("replica_seconds"), 0));
  fmt::print("  {:<30} {:>14}\n", "ready replicas (mean)", number(d("ready_replicas_mean"), 2));
  fmt::print("  {:<30} {:>14}\n", "CPU utilisation (of request)", number(d("cpu_utilization_mean"), 3));
}

int run(int argc, char** argv) {
  CLI::App app{"Replays a scenario through the faascale simulator (docs/scenarios.md)."};
  std::string scenario_path, out_dir;
  std::optional<std::string> seed;
  std::vector<std::string> overrides;
  bool quiet = false;
  app.add_option("scenario", scenario_path, "Scenario JSON file")->required();
  app.add_option("--out", out_dir, "Output folder (default runs/<scenario name>)");
  app.add_option("--seed", seed, "Override the scenario's seed (an integer in [0, 2^53])");
  app.add_option("--set", overrides, "Override one value: json.path=value (repeatable)");
  app.add_flag("--quiet", quiet, "No progress lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "simrun: error: " << e.what() << " (see simrun --help)\n";
    return 2;
  }

  // Everything is read and validated before anything is created on disk.
  nlohmann::json doc = faascale::read_json_file(scenario_path);
  if (!doc.is_object()) {
    throw faascale::InputError(fmt::format("{}: expected a JSON object (a scenario), got a {}.", scenario_path,
                                           doc.type_name()));
  }
  for (const auto& o : overrides) faascale::apply_override(doc, o);
  if (seed) faascale::apply_override(doc, "seed=" + *seed);  // validated with the scenario, as $.seed
  const faascale::Scenario scenario = faascale::Scenario::from_json(doc, scenario_path);
  if (out_dir.empty()) out_dir = (fs::path("runs") / scenario.name).string();

  std::error_code ec;
  const bool created = !fs::exists(out_dir);
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot create the output folder ({}).", out_dir, ec.message()));
  try {
    faascale::AtomicFile windows((fs::path(out_dir) / "windows.csv").string());
    windows.write(faascale::windows_csv_header());
    faascale::Simulator sim(scenario,
                            scenario.make_autoscaler(),
                            [&](const faascale::WindowMetrics& w) { windows.write(faascale::windows_csv_row(w)); });
    const auto start = Clock::now();
    auto last_report = start;
    for (int step = 1; step <= kProgressSteps; ++step) {
      sim.run_until(scenario.duration_s * step / kProgressSteps);
      if (!quiet && std::chrono::duration<double>(Clock::now() - last_report).count() > kProgressEverySeconds) {
        last_report = Clock::now();
        fmt::print(stderr, "simrun: {:5.1f}%  simulated {:.0f} s  {} requests  {:.1f} s wall\n",
                   100.0 * step / kProgressSteps, sim.now(), sim.totals().arrivals, seconds_since(start));
      }
    }
    const double wall = seconds_since(start);
    const nlohmann::json summary = faascale::run_summary(sim, FAASCALE_GIT_REVISION, wall);
    faascale::AtomicFile summary_file((fs::path(out_dir) / "summary.json").string());
    summary_file.write(summary.dump(2) + "\n");
    windows.commit();
    summary_file.commit();
    print_table(summary["metrics"], scenario, wall);
    fmt::print("  outputs: {}/summary.json, {}/windows.csv\n", out_dir, out_dir);
  } catch (...) {
    if (created) fs::remove(out_dir, ec);  // only removes it if empty
    throw;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const faascale::InputError& e) {
    std::cerr << "simrun: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "simrun: failed: " << e.what() << "\n";
    return 1;
  }
}
