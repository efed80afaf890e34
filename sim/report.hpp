// Run outputs: summary.json content, windows.csv rows, and atomic file writing.
//
// Output format version kFormatVersion is documented in docs/scenarios.md ("Outputs");
// bump it when a field changes meaning or disappears.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/metrics.hpp"
#include "sim/simulation.hpp"

namespace faascale {

inline constexpr int kFormatVersion = 1;

// The whole-run metrics (the "metrics" object of summary.json).
nlohmann::json run_metrics(const Simulation& sim);
// summary.json: format version, git revision, resolved scenario, metrics.
nlohmann::json run_summary(const Simulation& sim, const std::string& git_revision, double wall_s);

std::string windows_csv_header();
std::string windows_csv_row(const WindowMetrics& w);

// A file that appears under its final name only when commit() succeeds: it is written to a
// hidden temporary beside the target and renamed (atomic on POSIX); destroyed uncommitted,
// the temporary is removed.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const std::string& text);
  void commit();

 private:
  std::string path_, temporary_;
  std::FILE* file_ = nullptr;
};

void write_file_atomically(const std::string& path, const std::string& text);

// Opens `path` for writing as a new file, never through a link planted under its name (one
// already there, a killed process's or a link, is removed first: unlink removes a link,
// not its target). Returns the descriptor, or -1 with errno set.
int create_new_file(const std::string& path);

}  // namespace faascale
