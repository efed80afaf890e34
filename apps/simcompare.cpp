// simcompare: runs several scenarios (typically one per autoscaler, same trace and
// function) over several seeds and prints a Markdown table side by side. Every scenario
// sees the same requests on a given seed (common random numbers), so differences are the
// policies' own.
//
//   simcompare SCENARIO.json... [--seeds N] [--first-seed S] [--out FILE.md]
//
// Columns: mean over seeds, with the standard deviation across seeds after "±".
// Exit codes as simrun's: 0 success, 2 bad input, 1 other failure.
#include <cmath>
#include <iostream>
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

struct Column {
  const char* metric;   // key in summary.json's metrics
  const char* heading;
  double scale;         // displayed value = metric * scale
  int decimals;
};

constexpr Column kColumns[] = {
    {"success_ratio", "success %", 100, 2},
    {"latency_p95_s", "P95 s", 1, 1},
    {"latency_p99_s", "P99 s", 1, 1},
    {"cold_start_affected_requests", "cold-start-affected", 1, 0},
    {"replica_seconds", "replica-hours", 1.0 / 3600, 1},
    {"cpu_utilization_mean", "CPU util (of request)", 1, 2},
};

// "mean ± sd" over the seeds with a value; "(k of n)" follows when some had none.
std::string mean_sd(const std::vector<double>& all, int decimals) {
  std::vector<double> v;
  for (double x : all) {
    if (!std::isnan(x)) v.push_back(x);
  }
  if (v.empty()) return "n/a";
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  std::string cell = fmt::format("{:.{}f} ± {:.{}f}", mean, decimals, sd, decimals);
  if (v.size() < all.size()) cell += fmt::format(" ({} of {})", v.size(), all.size());
  return cell;
}

int run(int argc, char** argv) {
  CLI::App app{"Compares scenarios (autoscalers) over several seeds.", "simcompare"};
  std::vector<std::string> files;
  int seeds = 5;
  std::int64_t first_seed = 1;
  std::string out;
  app.add_option("scenarios", files, "Scenario JSON files")->required();
  app.add_option("--seeds", seeds, "Number of seeds (default 5)")->check(CLI::Range(1, 1000));
  app.add_option("--first-seed", first_seed, "First seed (default 1)")->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 52));
  app.add_option("--out", out, "Also write the table to this file (atomically)");
  if (const int code = faascale::cli::parse(app, argc, argv); code >= 0) return code;
  // Validate everything before running anything.
  std::vector<nlohmann::json> docs;
  std::vector<std::string> inputs;
  for (const auto& f : files) {
    docs.push_back(faascale::read_json_file(f));
    if (docs.back().is_object() && docs.back().contains("train")) {
      throw faascale::InputError(f + ": a training scenario (it has \"train\"); train it with simrun, then compare "
                                 "a scenario whose autoscaler is {\"kind\": \"agent\", \"checkpoint\": ...}.");
    }
    for (auto& input : faascale::input_files(f, faascale::Scenario::from_json(docs.back(), f).resolved)) {
      inputs.push_back(std::move(input));
    }
  }
  if (!out.empty()) faascale::cli::check_output_file(out, false, inputs);
  std::string table = "| scenario | autoscaler |";
  std::string rule = "|---|---|";
  for (const Column& c : kColumns) {
    table += fmt::format(" {} |", c.heading);
    rule += "---|";
  }
  table += "\n" + rule + "\n";
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::vector<std::vector<double>> values(std::size(kColumns));
    std::string name, kind;
    for (int k = 0; k < seeds; ++k) {
      nlohmann::json doc = docs[i];
      doc["seed"] = first_seed + k;
      const faascale::Scenario scenario = faascale::Scenario::from_json(doc, files[i]);
      const auto sim = faascale::make_simulation(scenario);
      sim->run();
      const nlohmann::json m = faascale::run_metrics(*sim);
      for (std::size_t c = 0; c < std::size(kColumns); ++c) {
        const auto& v = m[kColumns[c].metric];
        values[c].push_back(v.is_null() ? std::nan("") : v.get<double>() * kColumns[c].scale);
      }
      name = scenario.name;
      kind = scenario.autoscaler.is_null() ? scenario.platform.kind : scenario.autoscaler["kind"].get<std::string>();
    }
    table += fmt::format("| {} | {} |", name, kind);
    for (std::size_t c = 0; c < std::size(kColumns); ++c) table += " " + mean_sd(values[c], kColumns[c].decimals) + " |";
    table += "\n";
  }
  const std::string caption = fmt::format("Seeds {}..{}; mean ± standard deviation across seeds.\n\n", first_seed,
                                          first_seed + seeds - 1);
  fmt::print("{}{}", caption, table);
  if (!out.empty()) faascale::write_file_atomically(out, caption + table);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef FAASCALE_HAVE_TORCH
  faascale::rl::register_agent_policy();
#endif
  return faascale::cli::guarded("simcompare", [&] { return run(argc, argv); });
}
