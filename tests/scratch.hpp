// The scratch folder of one test process: below the system's temporary folder and named
// by process id, so that suites run side by side (ctest -j2) or from two checkouts at once
// never share a file. test_main.cpp removes it when the suite ends.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace faascale::testing {

inline std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    const auto d = std::filesystem::temp_directory_path() / ("faascale-tests-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// A path for `name` in it.
inline std::string scratch_path(const std::string& name) { return (scratch_dir() / name).string(); }

}  // namespace faascale::testing
