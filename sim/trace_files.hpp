// Readers for the trace files in CSV formats (reference facts section 6). Each streams
// its file line by line, keeping only what the selected function needs, so a 140 MB
// Azure day file takes no more memory than one line plus the result. Every malformed row
// is an InputError naming the file, the line and the column.
//
//   Azure 2019  invocations_per_function_md.anon.dNN.csv:
//               HashOwner,HashApp,HashFunction,Trigger,1,...,1440 (invocations per minute)
//               function_durations_percentiles.anon.dNN.csv:
//               HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,
//               percentile_Average_{0,1,25,50,75,99,100} (milliseconds)
//               app_memory_percentiles.anon.dNN.csv:
//               HashOwner,HashApp,SampleCount,AverageAllocatedMb,... (per application)
//   Azure 2021  AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt:
//               app,func,end_timestamp,duration (seconds)
//   requests    arrival_s,duration_s (our plain per-request format)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/json_reader.hpp"

namespace faascale {

// One request of a per-request trace: when it arrives and how long it ran.
struct TraceRequest {
  double arrival_s;
  double duration_s;
};

// Selects one function of an Azure 2019 file: by its three hashes, or by its 1-based data
// row (row > 0). Scenario keys: hash_owner, hash_app, hash_function, or row.
struct AzureFunction {
  std::string owner, app, function;
  std::int64_t row = 0;
  // `app_only`: the memory file has no HashFunction column.
  static AzureFunction read(JsonReader& reader, bool app_only = false);
  std::string describe() const;
};

// The 1440 per-minute invocation counts of the selected function.
std::vector<std::int64_t> load_azure_2019_counts(const std::string& path, const AzureFunction& which);
// The selected function's duration percentiles as (quantile, seconds), quantiles 0 to 1.
std::vector<std::pair<double, double>> load_azure_2019_durations(const std::string& path, const AzureFunction& which);
// The selected application's AverageAllocatedMb (only owner and app matter; by row, the
// row of the memory file).
double load_azure_2019_memory(const std::string& path, const AzureFunction& which);
// The invocations of `app` (and of `func` in it, unless empty), arrival = end - duration,
// sorted by arrival.
std::vector<TraceRequest> load_azure_2021(const std::string& path, const std::string& app, const std::string& func);
// arrival_s,duration_s rows, sorted by arrival.
std::vector<TraceRequest> load_requests_csv(const std::string& path);

}  // namespace faascale
