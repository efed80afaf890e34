#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the main jobs on
# the real Azure trace day:
#   1. replays it through the simulator with 16 static pods   -> runs/azure-day/
#   2. pretrains LSTM-PPO+ on its first 18 hours (boosted) and evaluates it on the last 6
#      (raw) against a random and two static policies           -> runs/train-lstm-ppo-plus/
#   3. replays the day again with the trained agent as the autoscaler -> runs/azure-day-agent/
# A second run keeps an earlier training (delete runs/train-lstm-ppo-plus to retrain).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/apps/simrun scenarios/azure-day.json --out runs/azure-day
if [ -e runs/train-lstm-ppo-plus/summary.json ]; then
  echo "quickstart: runs/train-lstm-ppo-plus is already trained; delete it to train again"
else
  build/apps/simrun scenarios/train-lstm-ppo-plus.json --out runs/train-lstm-ppo-plus
fi
build/apps/simrun scenarios/azure-day.json --out runs/azure-day-agent \
  --set 'autoscaler={"kind": "agent", "checkpoint": "runs/train-lstm-ppo-plus/best.pt"}'
