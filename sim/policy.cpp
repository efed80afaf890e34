// make_policy() and the policies that need no more than a few lines.
//
// static: always asks for `replicas` (clamped by the platform). Parameters:
//   replicas  integer >= 0 (required)
//   period_s  seconds between (identical) decisions, default 30
#include "sim/policy.hpp"

#include "sim/json_reader.hpp"

namespace faascale {
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

std::unique_ptr<Policy> make_policy(const nlohmann::json& spec, const std::string& file, nlohmann::json& resolved) {
  JsonReader reader(spec, file, "$.autoscaler", resolved);
  const std::string kind = reader.choice("kind", {"static"});
  std::unique_ptr<Policy> policy;
  if (kind == "static") {
    const auto replicas = reader.integer("replicas", 0, 100000);
    policy = std::make_unique<StaticPolicy>(replicas, reader.number("period_s", 1e-3, 1e9, 30.0));
  }
  reader.finish();
  return policy;
}

}  // namespace faascale
