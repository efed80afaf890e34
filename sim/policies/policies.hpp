// The factories of the classic autoscalers, one file each in this folder; make_policy()
// (sim/policy.cpp) dispatches on "kind" to them. Each reads its own parameters from the
// reader (every one with its upstream default) and must leave no key unread.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>

#include "sim/json_reader.hpp"
#include "sim/policy.hpp"

namespace faascale::policies {

// Rounds a computed replica count up; a NaN or infinite value (a metric that could not be
// read) gives `fallback`, as a controller that cannot read its metric leaves the count alone.
inline std::int64_t ceil_replicas(double value, std::int64_t fallback) {
  if (!std::isfinite(value)) return fallback;
  return static_cast<std::int64_t>(std::ceil(std::clamp(value, -1e9, 1e9)));
}

// The current desired count within [min, max]: what a policy answers when it takes no
// decision (no data yet, an unreadable metric, or between its ticks).
inline std::int64_t keep_current(const PlatformView& view, const PolicyContext& context) {
  return std::clamp(view.desired, context.min_replicas, context.max_replicas);
}

std::unique_ptr<Policy> make_static(JsonReader& params, const PolicyContext& context);
std::unique_ptr<Policy> make_hpa(JsonReader& params, const PolicyContext& context);
std::unique_ptr<Policy> make_kpa(JsonReader& params, const PolicyContext& context);
std::unique_ptr<Policy> make_openfaas_ce(JsonReader& params, const PolicyContext& context);
std::unique_ptr<Policy> make_openfaas_pro(JsonReader& params, const PolicyContext& context);

}  // namespace faascale::policies
