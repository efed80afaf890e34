// simrun: runs one scenario through the simulator and reports it, or, when the scenario has
// a "train" object, trains an RL agent on it (docs/training.md).
//
//   simrun SCENARIO.json [--out DIR] [--seed N] [--set json.path=value]... [--quiet] [--resume]
//
// Prints progress on long runs (stderr) and a summary table (stdout); writes
// DIR/summary.json and DIR/windows.csv atomically (DIR defaults to runs/<scenario name>);
// training writes DIR/summary.json, learning_curve.csv, last.pt and best.pt.
// Exit codes: 0 success, 2 bad input (nothing is written), 1 any other failure (training:
// also a NaN loss, keeping the last good checkpoint), 130 stopped by SIGINT or SIGTERM
// (temporary files and a folder it created are removed; training keeps its last
// checkpoint for --resume).
#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/cli.hpp"
#include "sim/json_reader.hpp"
#include "sim/report.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"
#ifdef FAASCALE_HAVE_TORCH
#include "rl/agent.hpp"
#endif

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

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

// Set by SIGINT/SIGTERM; the run stops at the next progress check and cleans up.
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int signal) { g_stop_signal = signal; }

struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

#ifdef FAASCALE_HAVE_TORCH
void print_training_table(const nlohmann::json& t) {
  const auto row = [](const std::string& name, const nlohmann::json& e) {
    const auto d = [&](const char* k) { return e[k].is_null() ? std::nan("") : e[k].get<double>(); };
    fmt::print("  {:<36} {:>9} {:>9} {:>9}\n", name, number(d("mean_reward")), number(d("latency_p95_s"), 2),
               number(d("mean_replicas"), 2));
  };
  const auto total = t["env_steps"].get<std::int64_t>(), trained = t["env_steps_this_run"].get<std::int64_t>();
  if (trained > 0) {
    fmt::print("\ntrained {} for {} env steps{} in {:.1f} s ({:.0f} steps/s; {})\n", t["agent"].get<std::string>(),
               trained, trained < total ? fmt::format(" (to {} in all)", total) : "", t["wall_s"].get<double>(),
               t["env_steps_per_s"].get<double>(), t["threads"].get<std::string>());
  } else {
    fmt::print("\n{} was already trained for {} env steps; evaluated again in {:.1f} s\n",
               t["agent"].get<std::string>(), total, t["wall_s"].get<double>());
  }
  fmt::print("  {:<36} {:>9} {:>9} {:>9}\n", "held-out evaluation", "reward", "p95 (s)", "replicas");
  row("agent (last.pt, greedy, masked)", t["final_evaluation"]);
  row("random (valid actions)", t["baselines"]["random"]);
  for (const char* side : {"static_below", "static_above"}) {
    const nlohmann::json& b = t["baselines"][side];
    row(fmt::format("static {} replicas ({})", b["replicas"].get<std::int64_t>(),
                    side == std::string("static_below") ? "fewer replica-s" : "more replica-s"), b);
  }
  fmt::print("  checkpoints: {} (best: {}), curve: {}\n", t["checkpoints"]["last"].get<std::string>(),
             t["checkpoints"]["best"].is_string() ? t["checkpoints"]["best"].get<std::string>() : "none",
             t["learning_curve"].get<std::string>());
}

// Training: everything is validated before any output; checkpoints and the curve go to
// the checkpoint folder as training goes; summary.json at the end.
int train(const nlohmann::json& doc, const std::string& scenario_path, std::string out_dir, bool resume, bool quiet) {
  auto [scenario, config, resolved_train] = faascale::rl::read_training_scenario(doc, scenario_path);
  if (out_dir.empty()) out_dir = (fs::path("runs") / scenario.name).string();
  if (config.checkpoint_dir.empty()) config.checkpoint_dir = out_dir;
  resolved_train["checkpoint_dir"] = config.checkpoint_dir;
  const fs::path summary_path = fs::path(out_dir) / "summary.json";
  for (const auto& dir : {out_dir, config.checkpoint_dir}) faascale::cli::check_output_folder(dir);
  const std::vector<std::string> inputs =
      faascale::input_files(scenario_path, nlohmann::json::array({scenario.resolved, resolved_train}));
  faascale::cli::check_output_file(summary_path.string(), true, inputs);
  for (const char* name : {"last.pt", "best.pt", "learning_curve.csv"}) {
    faascale::cli::check_output_file((fs::path(config.checkpoint_dir) / name).string(), true, inputs);
  }
  // Folders this run creates are removed again if it fails or stops before writing in them.
  std::vector<fs::path> created;
  std::error_code ec;
  const auto remove_created = [&] {
    for (auto it = created.rbegin(); it != created.rend(); ++it) fs::remove(*it, ec);  // only if empty
  };
  for (const auto& dir : {out_dir, config.checkpoint_dir}) {
    for (fs::path p = fs::absolute(dir).lexically_normal(); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      created.insert(created.begin(), p);
    }
    fs::create_directories(dir, ec);
    if (ec) {
      const std::string reason = ec.message();  // before remove_created() reuses ec
      remove_created();
      throw faascale::InputError(fmt::format("{}: cannot create the folder ({}); choose another --out or "
                                             "train.checkpoint_dir.", dir, reason));
    }
    try {
      faascale::cli::check_writable_folder(dir);
    } catch (...) {
      remove_created();
      throw;
    }
  }
  const auto start = Clock::now();
  auto last_report = start - std::chrono::hours(1);
  faascale::rl::TrainHooks hooks;
  hooks.stop_requested = [] { return g_stop_signal != 0; };
  hooks.on_update = [&](const faascale::rl::TrainProgress& p) {
    if (quiet || (!p.evaluation && seconds_since(last_report) < kProgressEverySeconds)) return;
    last_report = Clock::now();
    std::string eval;
    if (p.evaluation) {
      eval = fmt::format("  | eval reward {} p95 {} s replicas {}", number(p.evaluation->mean_reward),
                         number(p.evaluation->latency_p95_s, 2), number(p.evaluation->mean_replicas, 2));
    }
    fmt::print(stderr, "simrun: train {:>9}/{} steps  {:7.0f} steps/s  episode reward {}{}\n", p.env_steps,
               p.total_steps, p.steps_per_s, number(p.mean_episode_reward), eval);
  };
  nlohmann::json training;
  try {
    training = faascale::rl::train(scenario, config, resume, hooks);
  } catch (const faascale::rl::TrainingStopped& e) {
    remove_created();
    throw Interrupted(e.what());
  } catch (...) {
    remove_created();
    throw;
  }
  nlohmann::json summary;
  summary["format_version"] = 1;
  summary["git_revision"] = FAASCALE_GIT_REVISION;
  summary["scenario"] = scenario.resolved;
  summary["scenario"]["train"] = resolved_train;
  summary["training"] = training;
  summary["wall_s"] = seconds_since(start);
  faascale::write_file_atomically(summary_path.string(), summary.dump(2) + "\n");
  print_training_table(training);
  fmt::print("  outputs: {}\n", summary_path.string());
  return 0;
}
#endif

int run(int argc, char** argv, Clock::time_point start) {
  CLI::App app{"Replays a scenario through the faascale simulator (docs/scenarios.md).", "simrun"};
  std::string scenario_path, out_dir;
  std::optional<std::string> seed;
  std::vector<std::string> overrides;
  bool quiet = false, resume = false;
  app.add_option("scenario", scenario_path, "Scenario JSON file")->required();
  app.add_option("--out", out_dir, "Output folder (default runs/<scenario name>)");
  app.add_option("--seed", seed, "Override the scenario's seed (an integer in [0, 2^53])");
  app.add_option("--set", overrides, "Override one value: json.path=value (repeatable)");
  app.add_flag("--quiet", quiet, "No progress lines");
  app.add_flag("--resume", resume, "Training: continue from the checkpoint folder's last.pt");
  if (const int code = faascale::cli::parse(app, argc, argv); code >= 0) return code;
  if (app.count("--out") > 0 && out_dir.empty()) throw faascale::InputError("--out: empty; give a folder.");

  // Everything is read and validated before anything is created on disk.
  nlohmann::json doc = faascale::read_json_file(scenario_path);
  if (!doc.is_object()) {
    throw faascale::InputError(fmt::format("{}: expected a JSON object (a scenario), got a {}.", scenario_path,
                                           doc.type_name()));
  }
  for (const auto& o : overrides) faascale::apply_override(doc, o);
  if (seed) {
    const bool digits = !seed->empty() && seed->size() <= 16 && seed->find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoull(*seed) > (std::uint64_t{1} << 53)) {
      throw faascale::InputError(fmt::format("--seed {}: expected an integer in [0, 2^53].", *seed));
    }
    doc["seed"] = std::stoull(*seed);
  }
  if (doc.contains("train")) {
#ifdef FAASCALE_HAVE_TORCH
    return train(doc, scenario_path, out_dir, resume, quiet);
#else
    throw faascale::InputError(scenario_path + ": has a \"train\" object, but this simrun was built without libtorch "
                               "(FAASCALE_WITH_TORCH=OFF); build with it to train.");
#endif
  }
  if (resume) throw faascale::InputError("--resume applies to training scenarios (with a \"train\" object) only.");
  const faascale::Scenario scenario = faascale::Scenario::from_json(doc, scenario_path);
  if (out_dir.empty()) out_dir = (fs::path("runs") / scenario.name).string();
  faascale::cli::check_output_folder(out_dir);

  const fs::path windows_path = fs::path(out_dir) / "windows.csv", summary_path = fs::path(out_dir) / "summary.json";
  const std::vector<std::string> inputs = faascale::input_files(scenario_path, scenario.resolved);
  faascale::cli::check_output_file(windows_path.string(), true, inputs);
  faascale::cli::check_output_file(summary_path.string(), true, inputs);
  std::error_code ec;
  const bool created = !fs::exists(out_dir);
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot create the output folder ({}).", out_dir, ec.message()));
  try {
    faascale::cli::check_writable_folder(out_dir);
    faascale::AtomicFile windows(windows_path.string());
    windows.write(faascale::windows_csv_header());
    const auto simulation = faascale::make_simulation(
        scenario, [&](const faascale::WindowMetrics& w) { windows.write(faascale::windows_csv_row(w)); });
    faascale::Simulation& sim = *simulation;
    auto last_report = Clock::now();
    sim.set_progress_hook([&] {
      if (g_stop_signal != 0) throw Interrupted(fmt::format("stopped by signal {}; nothing written.", int{g_stop_signal}));
      if (quiet || seconds_since(last_report) < kProgressEverySeconds) return;
      last_report = Clock::now();
      fmt::print(stderr, "simrun: {:5.1f}%  simulated {:.0f} s  {} requests  {:.1f} s wall\n",
                 100.0 * sim.now() / scenario.duration_s, sim.now(), sim.totals().arrivals, seconds_since(start));
    });
    sim.run();
    if (g_stop_signal != 0) throw Interrupted(fmt::format("stopped by signal {}; nothing written.", int{g_stop_signal}));
    const double wall = seconds_since(start);
    const nlohmann::json summary = faascale::run_summary(sim, FAASCALE_GIT_REVISION, wall);
    faascale::AtomicFile summary_file(summary_path.string());
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
  const auto start = Clock::now();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
#ifdef FAASCALE_HAVE_TORCH
  faascale::rl::register_agent_policy();
#endif
  return faascale::cli::guarded("simrun", [&] {
    try {
      return run(argc, argv, start);
    } catch (const Interrupted& e) {
      std::cerr << "simrun: " << e.what() << "\n";
      return 130;
    }
  });
}
