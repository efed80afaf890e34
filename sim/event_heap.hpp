// An indexed min-heap of timers: each entity (a pod, the arrival stream, the window clock,
// ...) has at most one pending event, which can be moved or cancelled in O(log n).
//
// Ties are broken deterministically: by time, then by the entity's priority class, then by
// entity id (docs/model.md, "Simultaneous events").
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace faascale {

class EventHeap {
 public:
  static constexpr double kNever = std::numeric_limits<double>::infinity();

  // Entities are numbered 0..n-1; `priority` orders simultaneous events (lower first).
  void resize(std::size_t entities) {
    priority_.resize(entities, 0);
    position_.resize(entities, kAbsent);
  }
  void set_priority(std::uint32_t entity, std::uint32_t priority) { priority_[entity] = priority; }
  std::size_t entities() const { return priority_.size(); }

  bool empty() const { return heap_.empty(); }
  std::uint32_t top() const { return static_cast<std::uint32_t>(heap_.front().order); }
  double top_time() const { return heap_.empty() ? kNever : heap_.front().time; }

  // Sets (or moves) the entity's event; kNever cancels it.
  void schedule(std::uint32_t entity, double when) {
    if (when == kNever) {
      cancel(entity);
      return;
    }
    const Node node{when, (std::uint64_t{priority_[entity]} << 32) | entity};
    std::uint32_t at = position_[entity];
    if (at == kAbsent) {
      at = static_cast<std::uint32_t>(heap_.size());
      heap_.push_back(node);
      sift_up(at, node);
    } else if (node.time < heap_[at].time) {
      sift_up(at, node);
    } else {
      sift_down(at, node);
    }
  }

  void cancel(std::uint32_t entity) {
    const std::uint32_t at = position_[entity];
    if (at == kAbsent) return;
    position_[entity] = kAbsent;
    const Node last = heap_.back();
    heap_.pop_back();
    if (at == heap_.size()) return;  // it was the last node
    if (at > 0 && before(last, heap_[(at - 1) / 2])) {
      sift_up(at, last);
    } else {
      sift_down(at, last);
    }
  }

 private:
  static constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();
  struct Node {
    double time;
    std::uint64_t order;  // priority in the high half, entity in the low half
  };

  static bool before(const Node& a, const Node& b) {
    return a.time < b.time || (a.time == b.time && a.order < b.order);
  }
  void place(std::uint32_t at, const Node& node) {
    heap_[at] = node;
    position_[static_cast<std::uint32_t>(node.order)] = at;
  }
  // Moves `node` (whose slot is `at`) up to where it belongs.
  void sift_up(std::uint32_t at, const Node& node) {
    while (at > 0) {
      const std::uint32_t parent = (at - 1) / 2;
      if (!before(node, heap_[parent])) break;
      place(at, heap_[parent]);
      at = parent;
    }
    place(at, node);
  }
  void sift_down(std::uint32_t at, const Node& node) {
    const auto n = static_cast<std::uint32_t>(heap_.size());
    while (true) {
      std::uint32_t child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], node)) break;
      place(at, heap_[child]);
      at = child;
    }
    place(at, node);
  }

  std::vector<std::uint32_t> priority_;
  std::vector<std::uint32_t> position_;
  std::vector<Node> heap_;
};

}  // namespace faascale
