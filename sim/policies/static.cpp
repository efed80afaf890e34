// static: always asks for the same replica count (the platform clamps it to [min, max]).
//
// Parameters:
//   replicas  integer >= 0 (required)
//   period_s  seconds between (identical) decisions, default 30
#include "sim/policies/policies.hpp"

namespace faascale::policies {
namespace {

class StaticPolicy final : public Policy {
 public:
  StaticPolicy(std::int64_t replicas, double period_s) : replicas_(replicas), period_s_(period_s) {}
  std::string_view kind() const override { return "static"; }
  double period_s() const override { return period_s_; }
  std::int64_t decide(const PlatformView&) override { return replicas_; }

 private:
  std::int64_t replicas_;
  double period_s_;
};

}  // namespace

std::unique_ptr<Policy> make_static(JsonReader& params, const PolicyContext&) {
  const auto replicas = params.integer("replicas", 0, 100000);
  return std::make_unique<StaticPolicy>(replicas, params.number("period_s", 1e-3, 1e9, 30.0));
}

}  // namespace faascale::policies
