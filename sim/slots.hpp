// Reusable slots in a vector: pods, instances and pending pre-warms are recycled, so that
// memory follows the most alive at once, not how many there ever were.
#pragma once

#include <cstdint>
#include <vector>

namespace faascale {

// Returns the index of a free slot of `items` (the most recently freed), or of a new
// default-constructed one appended to it.
template <typename T>
std::uint32_t take_slot(std::vector<T>& items, std::vector<std::uint32_t>& free) {
  if (!free.empty()) {
    const std::uint32_t slot = free.back();
    free.pop_back();
    return slot;
  }
  items.emplace_back();
  return static_cast<std::uint32_t>(items.size() - 1);
}

}  // namespace faascale
