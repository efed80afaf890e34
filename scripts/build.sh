#!/usr/bin/env bash
# Configures (once) and builds faascale in build/ (Release, ccache when present).
#   BUILD_DIR   build folder (default build)
#   JOBS        parallel compile jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
[ -f "$build_dir/CMakeCache.txt" ] || cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}"
