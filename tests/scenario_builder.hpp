// Builds scenarios in tests from a small JSON base plus per-test changes.
#pragma once

#include <nlohmann/json.hpp>

#include "scratch.hpp"
#include "sim/scenario.hpp"

namespace faascale::testing {

// A Poisson workload on a function with no CPU limit, one request per pod, a huge queue and
// no timeouts to speak of: the M/M/c setting unless a test changes it.
inline nlohmann::json base_scenario() {
  return nlohmann::json::parse(R"({
    "name": "test", "seed": 1, "duration_s": 1000, "control_interval_s": 10,
    "trace": {"format": "poisson", "rate_per_s": 1},
    "function": {"service": {"dist": "exponential", "mean_s": 1},
                 "cold_start": {"dist": "deterministic", "mean_s": 1},
                 "max_inflight": 1, "timeout_s": 1e12, "cpu_request_cores": 1,
                 "cpu_limit_cores": 0, "memory_request_mib": 256},
    "platform": {"min_replicas": 0, "max_replicas": 1000, "initial_replicas": 1,
                 "queue_capacity": 1000000000},
    "autoscaler": {"kind": "static", "replicas": 1}
  })");
}

inline Scenario make_scenario(const nlohmann::json& doc) { return Scenario::from_json(doc, "test.json"); }

}  // namespace faascale::testing
