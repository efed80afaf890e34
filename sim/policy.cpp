// make_policy(): the scenario's "autoscaler" object to a Policy.
#include "sim/policy.hpp"

#include "sim/policies/policies.hpp"

namespace faascale {

std::unique_ptr<Policy> make_policy(const nlohmann::json& spec, const PolicyContext& context, const std::string& file,
                                    nlohmann::json& resolved) {
  JsonReader reader(spec, file, "$.autoscaler", resolved);
  const std::string kind = reader.choice("kind", {"static", "hpa", "kpa", "openfaas-ce", "openfaas-pro"});
  std::unique_ptr<Policy> policy = kind == "static"        ? policies::make_static(reader, context)
                                   : kind == "hpa"         ? policies::make_hpa(reader, context)
                                   : kind == "kpa"         ? policies::make_kpa(reader, context)
                                   : kind == "openfaas-ce" ? policies::make_openfaas_ce(reader, context)
                                                           : policies::make_openfaas_pro(reader, context);
  reader.finish();
  return policy;
}

}  // namespace faascale
