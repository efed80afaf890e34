// make_simulation(): the platform model a scenario names.
#include "sim/simulation.hpp"

#include "sim/keepalive_simulator.hpp"
#include "sim/openfaas_simulator.hpp"

namespace faascale {

std::unique_ptr<Simulation> make_simulation(const Scenario& scenario, MetricsRecorder::WindowSink sink) {
  if (scenario.platform.kind == "keepalive") {
    return std::make_unique<KeepAliveSimulator>(scenario, nullptr, std::move(sink));
  }
  return std::make_unique<OpenFaasSimulator>(scenario, scenario.make_autoscaler(), std::move(sink));
}

}  // namespace faascale
