#!/usr/bin/env bash
# The README's second command: builds if needed and runs the whole test suite with CTest.
# Extra arguments go to ctest (for example -L unit, or -R queueing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh > /dev/null
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j2 "$@"
