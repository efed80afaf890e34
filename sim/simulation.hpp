// The interface every platform model implements (openfaas_simulator.hpp,
// keepalive_simulator.hpp), so that simrun, simcompare and reports need not know which
// one runs; make_simulation() builds the one a scenario's platform.kind names.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "sim/metrics.hpp"
#include "sim/quantiles.hpp"
#include "sim/recorder.hpp"
#include "sim/scenario.hpp"

namespace faascale {

class Simulation {
 public:
  virtual ~Simulation() = default;
  // Processes every event before time t, and the close of a window ending exactly at t.
  virtual void run_until(double t) = 0;
  // Runs to the scenario's duration and closes the last (possibly shorter) window.
  virtual void run() = 0;
  virtual double now() const = 0;
  virtual RunTotals totals() const = 0;
  // Client latency of every successful request so far.
  virtual const QuantileSketch& ok_latency() const = 0;
  // Requests queued or in flight now.
  virtual std::int64_t in_system() const = 0;
  virtual const Scenario& scenario() const = 0;
  // Called every few tens of thousands of events (progress reports; throw to stop).
  virtual void set_progress_hook(std::function<void()> hook) = 0;
  // Adds the platform's own whole-run metrics to summary.json's "metrics".
  virtual void add_metrics(nlohmann::json& metrics) const { (void)metrics; }
};

// The scenario's platform, with its autoscaler when it has one.
std::unique_ptr<Simulation> make_simulation(const Scenario& scenario, MetricsRecorder::WindowSink sink = {});

}  // namespace faascale
