// The doctest entry point shared by every suite; removes the suite's scratch folder after.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "scratch.hpp"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  std::error_code ec;
  std::filesystem::remove_all(faascale::testing::scratch_dir(), ec);
  return result;
}
