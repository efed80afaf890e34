#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and replays the real
# Azure trace (scenarios/azure-day.json) through the simulator. Outputs: runs/azure-day/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/apps/simrun scenarios/azure-day.json --out runs/azure-day
