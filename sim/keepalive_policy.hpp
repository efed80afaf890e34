// The hook keep-alive and pre-warming policies plug into on the keep-alive platform
// (keepalive_simulator.hpp), and the factory of the shipped ones (policies/keepalive.cpp).
//
// Scenario key "autoscaler" on the keepalive platform (optional; default: fixed keep-alive
// of platform.expiration_s):
//   {"kind": "fixed-keepalive", "keep_alive_s": 600}
//   {"kind": "hybrid-histogram", ...}  (Shahrad et al., ATC 2020; see policies/keepalive.cpp)
#pragma once

#include <limits>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace faascale {

class KeepAlivePolicy {
 public:
  // What to do with an instance that has just become idle.
  struct Decision {
    // 0: keep it loaded now. > 0: unload it now, and load a fresh one (a cold start no
    // request waits for) so that it is ready this long from now.
    double prewarm_after_s = 0;
    // How long the instance stays loaded and idle (from now, or from its pre-warm).
    double keep_alive_s = 600;
  };

  virtual ~KeepAlivePolicy() = default;
  // Every arrival; `idle_time_s` is how long the function had no request running before
  // it, or NaN when requests were running (or none ever finished).
  virtual void on_arrival(double now_s, double idle_time_s) {
    (void)now_s;
    (void)idle_time_s;
  }
  virtual Decision on_idle(double now_s) = 0;
};

// Builds the policy `spec` names (null spec: fixed keep-alive of `default_keep_alive_s`),
// recording every parameter in `resolved`. Throws InputError with the JSON path.
std::unique_ptr<KeepAlivePolicy> make_keepalive_policy(const nlohmann::json& spec, double default_keep_alive_s,
                                                       const std::string& file, nlohmann::json& resolved);

}  // namespace faascale
