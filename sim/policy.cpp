// make_policy(): the scenario's "autoscaler" object to a Policy.
#include "sim/policy.hpp"

#include "sim/policies/policies.hpp"

#include <map>

namespace faascale {
namespace {

std::map<std::string, PolicyFactory>& registered_kinds() {
  static std::map<std::string, PolicyFactory> kinds;
  return kinds;
}

}  // namespace

void register_policy_kind(const std::string& kind, PolicyFactory factory) {
  registered_kinds()[kind] = std::move(factory);
}

std::unique_ptr<Policy> make_policy(const nlohmann::json& spec, const PolicyContext& context, const std::string& file,
                                    nlohmann::json& resolved) {
  JsonReader reader(spec, file, "$.autoscaler", resolved);
  std::vector<std::string> kinds = {"static", "hpa", "kpa", "openfaas-ce", "openfaas-pro"};
  for (const auto& [name, factory] : registered_kinds()) kinds.push_back(name);
  const std::string kind = reader.choice("kind", kinds);
  if (const auto found = registered_kinds().find(kind); found != registered_kinds().end()) {
    std::unique_ptr<Policy> policy = found->second(reader, context);
    reader.finish();
    return policy;
  }
  std::unique_ptr<Policy> policy = kind == "static"        ? policies::make_static(reader, context)
                                   : kind == "hpa"         ? policies::make_hpa(reader, context)
                                   : kind == "kpa"         ? policies::make_kpa(reader, context)
                                   : kind == "openfaas-ce" ? policies::make_openfaas_ce(reader, context)
                                                           : policies::make_openfaas_pro(reader, context);
  reader.finish();
  return policy;
}

}  // namespace faascale
