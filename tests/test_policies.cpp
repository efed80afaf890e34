// Each classic autoscaler against behaviour computed by hand from its upstream rules
// (reference facts sections 2-4), on hand-built platform views.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "sim/json_reader.hpp"
#include "sim/policy.hpp"

namespace faascale {
namespace {

std::unique_ptr<Policy> policy(const nlohmann::json& spec, PolicyContext context) {
  nlohmann::json resolved;
  return make_policy(spec, context, "test.json", resolved);
}

// Ready pods whose CPU counters grow at a chosen utilisation (of a 0.1-core request).
struct FakePods {
  std::vector<PodView> pods;
  void add(std::uint64_t id, PodView::Phase phase, double created_s, double ready_s) {
    PodView p;
    p.id = id;
    p.phase = phase;
    p.created_s = created_s;
    p.ready_s = ready_s;
    pods.push_back(p);
  }
  // Advances every ready pod's CPU counter by `seconds` at utilisation `u`.
  void run(double seconds, double u) {
    for (auto& p : pods) {
      if (p.phase == PodView::Phase::ready) p.cpu_core_seconds += u * 0.1 * seconds;
    }
  }
  PlatformView view(double now, std::int64_t desired) const {
    PlatformView v;
    v.now_s = now;
    v.desired = desired;
    v.min_replicas = 1;
    v.max_replicas = 24;
    for (const auto& p : pods) {
      v.ready += p.phase == PodView::Phase::ready;
      v.starting += p.phase == PodView::Phase::starting;
    }
    v.pods = pods.data();
    v.pod_count = pods.size();
    return v;
  }
};

const PolicyContext kContext{1, 24, 1, 0.1};

// Runs the HPA every 15 s from t = 0 to t = `until` with utilisation u(t) on `pods`,
// feeding its decisions back as the current replica count; returns decisions by time.
template <typename Utilisation>
std::vector<std::pair<double, std::int64_t>> run_hpa(Policy& hpa, FakePods& pods, std::int64_t current, double until,
                                                     Utilisation u) {
  std::vector<std::pair<double, std::int64_t>> decisions;
  for (double t = 0; t <= until; t += 15) {
    if (t > 0) pods.run(15, u(t));
    current = hpa.decide(pods.view(t, current));
    decisions.emplace_back(t, current);
  }
  return decisions;
}

FakePods old_ready_pods(int n) {
  FakePods pods;
  for (int i = 1; i <= n; ++i) pods.add(i, PodView::Phase::ready, -1000, -990);
  return pods;
}

}  // namespace

TEST_CASE("HPA: holds within the 10% tolerance") {
  auto hpa = policy({{"kind", "hpa"}}, kContext);
  FakePods pods = old_ready_pods(4);
  // 85% against a target of 80%: ratio 1.0625.
  for (auto [t, d] : run_hpa(*hpa, pods, 4, 120, [](double) { return 0.85; })) CHECK(d == 4);
}

TEST_CASE("HPA: scales up by ceil(ratio * ready), within max(4 pods, 100%) per 15 s") {
  auto hpa = policy({{"kind", "hpa"}}, kContext);
  FakePods pods = old_ready_pods(4);
  const auto d = run_hpa(*hpa, pods, 4, 30, [](double) { return 1.6; });
  CHECK(d[0].second == 4);  // t = 0 and 15: no metric over a full 30 s window yet
  CHECK(d[1].second == 4);
  CHECK(d[2].second == 8);  // ratio 2: ceil(2 * 4) = 8 = max(4 + 4, 2 * 4)
}

TEST_CASE("HPA: the scale-up rate limit is max(4 pods, 100%) of the period's start") {
  auto hpa = policy({{"kind", "hpa"}}, kContext);
  FakePods pods = old_ready_pods(2);
  const auto d = run_hpa(*hpa, pods, 2, 30, [](double) { return 8.0; });
  CHECK(d[2].second == 6);  // wants ceil(10 * 2) = 20; limit max(2 + 4, 2 * 2) = 6
}

TEST_CASE("HPA: the first sync is recorded, so nothing scales down within 300 s of the start") {
  auto hpa = policy({{"kind", "hpa"}}, kContext);
  FakePods pods = old_ready_pods(6);
  const auto d = run_hpa(*hpa, pods, 6, 330, [](double) { return 0.1; });
  for (const auto& [t, replicas] : d) {
    CAPTURE(t);
    CHECK(replicas == (t < 300 ? 6 : 1));
  }
}

TEST_CASE("HPA: scale-down waits for the 300 s stabilisation window") {
  auto hpa = policy({{"kind", "hpa"}}, kContext);
  FakePods pods = old_ready_pods(4);
  // 85% until t = 30 (hold at 4, recorded at t = 30), then 20%. The 30 s window at t = 45
  // still averages 85% and 20% (52%: ratio 0.65, recommendation ceil(2.6) = 3); from t = 60
  // it is 20% (ratio 0.25: recommendation 1). The highest recommendation of the last
  // 300 s wins: 4 until t = 330, 3 at t = 330, then 1.
  const auto d = run_hpa(*hpa, pods, 4, 375, [](double t) { return t <= 30 ? 0.85 : 0.2; });
  for (const auto& [t, replicas] : d) {
    CAPTURE(t);
    CHECK(replicas == (t < 330 ? 4 : t < 345 ? 3 : 1));
  }
}

TEST_CASE("HPA: on a scale-down, pods without metrics count at 100% of their request") {
  auto hpa = policy({{"kind", "hpa"}, {"scale_down_stabilization_s", 0}}, kContext);
  FakePods pods = old_ready_pods(4);
  std::int64_t current = 6;
  for (double t = 0; t <= 15; t += 15) {
    if (t > 0) pods.run(15, 0.4);
    current = hpa->decide(pods.view(t, current));
  }
  // Two pods created after the t = 0 sample: no metric over the window at t = 30.
  pods.add(5, PodView::Phase::ready, 20, 25);
  pods.add(6, PodView::Phase::ready, 20, 25);
  pods.run(15, 0.4);
  const std::vector<std::pair<double, std::int64_t>> d = {{0, 6}, {15, 6}, {30, hpa->decide(pods.view(30, current))}};
  // First pass: 40% / 80% = 0.5 on 4 pods. Second: the 2 pods without metrics at their
  // whole request (max(100%, target)): (4 * 40 + 2 * 100) / 6 = 60%, ratio 0.75, so
  // ceil(0.75 * 6) = 5.
  CHECK(d[2].second == 5);
}

TEST_CASE("HPA: on a scale-up, unready pods count at 0% and can cancel it") {
  auto hpa = policy({{"kind", "hpa"}}, kContext);
  FakePods pods = old_ready_pods(2);
  pods.add(3, PodView::Phase::starting, 10, 1e9);
  pods.add(4, PodView::Phase::starting, 10, 1e9);
  const auto d = run_hpa(*hpa, pods, 4, 30, [](double) { return 1.6; });
  // First pass: ratio 2 on 2 ready pods. Second: 2 * 1.6 / 4 / 0.8 = 1.0: within
  // tolerance, so no change.
  CHECK(d[2].second == 4);
}

TEST_CASE("HPA: rps metric scales on requests per second per pod") {
  auto hpa = policy({{"kind", "hpa"}, {"metric", "rps"}, {"target_rps_per_pod", 2}}, kContext);
  FakePods pods = old_ready_pods(3);
  std::int64_t current = 3;
  for (double t = 0; t <= 30; t += 15) {
    for (auto& p : pods.pods) p.requests += static_cast<std::int64_t>(t > 0 ? 5 * 15 : 0);  // 5 req/s each
    current = hpa->decide(pods.view(t, current));
  }
  CHECK(current == 7);  // ratio 2.5 wants ceil(2.5 * 3) = 8; the limit is max(3 + 4, 2 * 3) = 7
}

TEST_CASE("KPA: enters panic on a burst, never shrinks in panic, leaves a stable window later") {
  PolicyContext context = kContext;
  context.max_inflight = 10;  // containerConcurrency 10: target 7 per pod
  auto kpa = policy({{"kind", "kpa"}}, context);
  PlatformView v;
  v.ready = 2;
  v.desired = 2;
  v.min_replicas = 1;
  v.max_replicas = 24;
  std::vector<std::int64_t> decision(200, -1);
  for (int t = 0; t < 200; ++t) {
    // Concurrency of the 1 s bucket ending at t: 14, then 70 for t in 61..70, then 14.
    if (t > 0) v.in_system_seconds_total += (t > 60 && t <= 70) ? 70 : 14;
    v.now_s = t;
    decision[t] = kpa->decide(v);
    v.desired = decision[t];  // the fake platform keeps 2 ready pods whatever is asked
  }
  CHECK(decision[60] == 2);   // stable: ceil(14 / 7)
  CHECK(decision[62] == 5);   // panic: buckets 57..62 average 32.7 -> ceil(32.7 / 7) = 5 >= 2 * 2
  CHECK(decision[64] == 8);   // 51.3 -> 8
  CHECK(decision[66] == 10);  // 70 -> 10
  for (int t = 66; t <= 135; ++t) {
    CAPTURE(t);
    CHECK(decision[t] == 10);  // never shrinks; last over threshold at t = 74 (average 32.7)
  }
  CHECK(decision[136] == 2);  // 136 - 74 > 60: panic over, stable ceil(14 / 7)
}

TEST_CASE("KPA: scales to zero only after the grace period, and from zero when requests wait") {
  PolicyContext context = kContext;
  context.min_replicas = 0;
  context.max_inflight = 1;
  auto kpa = policy({{"kind", "kpa"}, {"stable_window_s", 10}}, context);
  PlatformView v;
  v.ready = 1;
  v.desired = 1;
  v.max_replicas = 24;
  std::int64_t d = 1;
  for (int t = 0; t <= 50; ++t) {
    v.now_s = t;
    d = kpa->decide(v);
    v.desired = d;
    if (t == 28) CHECK(d == 1);  // zero demand since the tick at t = 0: the grace period (30 s) not over
  }
  CHECK(d == 0);
  v.ready = 0;
  for (int t = 51; t <= 54; ++t) {
    v.now_s = t;
    v.in_system_seconds_total += 3;  // three requests held by the activator
    d = kpa->decide(v);
  }
  CHECK(d >= 1);
}

TEST_CASE("OpenFaaS CE: steps up on firing notifications, falls back to min on resolve") {
  auto ce = policy({{"kind", "openfaas-ce"}}, kContext);  // step ceil(24 * 10 / 100) = 3
  PlatformView v;
  v.desired = 1;
  v.ready = 1;
  std::vector<std::int64_t> d(100, -1);
  for (int t = 0; t < 100; ++t) {
    v.now_s = t;
    if (t > 0 && t <= 70) v.ok_total += 10;  // 10 successes/s until t = 70
    d[t] = ce->decide(v);
    v.desired = d[t];
  }
  // Evaluations every 15 s: true at 15 (pending), firing at 30; Alertmanager's first
  // notification group_wait = 5 s later, repeats 30 s after; the rate over [65, 75] is
  // exactly 5, not above it, so the alert resolves at 75 and the flush at 75 sends it.
  CHECK(d[34] == 1);
  CHECK(d[35] == 4);
  CHECK(d[64] == 4);
  CHECK(d[65] == 7);
  CHECK(d[74] == 7);
  CHECK(d[75] == 1);
  CHECK(d[99] == 1);
}

TEST_CASE("OpenFaaS CE: the 1..5 replica cap bounds the step and the count") {
  auto ce = policy({{"kind", "openfaas-ce"}, {"replica_cap", true}, {"scaling_factor", 100}}, kContext);
  PlatformView v;
  v.desired = 1;
  std::int64_t d = 1;
  for (int t = 0; t < 200; ++t) {
    v.now_s = t;
    v.ok_total += 10;
    d = ce->decide(v);
    v.desired = d;
    CHECK(d <= 5);
  }
  CHECK(d == 5);
}

TEST_CASE("OpenFaaS Pro: desired = ceil(load / (target * proportion)) in each mode") {
  SUBCASE("rps") {
    auto pro = policy({{"kind", "openfaas-pro"}, {"mode", "rps"}}, kContext);
    PlatformView v;
    v.desired = 1;
    v.ready = 1;
    std::int64_t d = 0;
    for (int t = 0; t <= 20; ++t) {
      v.now_s = t;
      v.requests_total += t > 0 ? 90 : 0;
      d = pro->decide(v);
      if (t == 0) CHECK(d == 1);  // no rate yet: scale_min
    }
    CHECK(d == 2);  // 90 req/s / (50 * 0.9)
  }
  SUBCASE("capacity: the peak in-flight over 45 s") {
    auto pro = policy({{"kind", "openfaas-pro"}, {"mode", "capacity"}, {"target", 5}}, kContext);
    PlatformView v;
    v.ready = 1;
    std::int64_t at20 = 0, at60 = 0;
    for (int t = 0; t <= 60; ++t) {
      v.now_s = t;
      v.in_flight = t <= 10 ? 20 : 5;
      const auto d = pro->decide(v);
      if (t == 20) at20 = d;
      if (t == 60) at60 = d;
    }
    CHECK(at20 == 5);  // ceil(20 / 4.5)
    CHECK(at60 == 2);  // the window (15, 60] peaks at 5: ceil(5 / 4.5)
  }
  SUBCASE("cpu: milli-CPU") {
    auto pro = policy({{"kind", "openfaas-pro"}, {"mode", "cpu"}, {"target", 100}}, kContext);
    PlatformView v;
    std::int64_t d = 0;
    for (int t = 0; t <= 30; ++t) {
      v.now_s = t;
      v.cpu_core_seconds_total += t > 0 ? 0.5 : 0;  // 500 milli-CPU
      d = pro->decide(v);
    }
    CHECK(d == 6);  // ceil(500 / 90)
  }
}

TEST_CASE("OpenFaaS Pro: scales to zero after the idle duration and back when a request waits") {
  PolicyContext context = kContext;
  context.min_replicas = 0;
  auto pro = policy({{"kind", "openfaas-pro"}, {"scale_to_zero", true}, {"zero_duration_s", 60}}, context);
  PlatformView v;
  v.ready = 1;
  std::int64_t d = 1;
  for (int t = 0; t <= 80; ++t) {
    v.now_s = t;
    d = pro->decide(v);
    if (t == 50) CHECK(d == 1);
  }
  CHECK(d == 0);
  v.ready = 0;
  v.queued = 1;
  v.arrivals_total = 1;
  v.now_s = 81;
  CHECK(pro->decide(v) == 1);
}

TEST_CASE("policies refuse settings their upstream does not support") {
  PolicyContext zero = kContext;
  zero.min_replicas = 0;
  CHECK_THROWS_WITH_AS(policy({{"kind", "hpa"}}, zero), doctest::Contains("cannot scale from zero"), InputError);
  CHECK_THROWS_WITH_AS(policy({{"kind", "openfaas-ce"}}, zero), doctest::Contains("does not scale to zero"),
                       InputError);
  CHECK_THROWS_WITH_AS(policy({{"kind", "openfaas-pro"}, {"scale_to_zero", true}}, kContext),
                       doctest::Contains("$.autoscaler.scale_to_zero"), InputError);
  PolicyContext six = kContext;
  six.min_replicas = 6;
  CHECK_THROWS_WITH_AS(policy({{"kind", "openfaas-ce"}, {"replica_cap", true}}, six),
                       doctest::Contains("$.autoscaler.replica_cap: the 1..5 cap"), InputError);
  CHECK(policy({{"kind", "openfaas-ce"}}, six) != nullptr);
  CHECK_THROWS_WITH_AS(policy({{"kind", "kpa"}, {"stable_widow_s", 60}}, kContext),
                       doctest::Contains("$.autoscaler.stable_widow_s: unknown key"), InputError);
}

}  // namespace faascale
