#!/usr/bin/env bash
# simrun training stopped by SIGTERM: exit 130 and no temporary file; stopped before its
# first checkpoint it leaves no folder, stopped after one it keeps last.pt and --resume
# finishes the run.
#   interrupt_train.sh SIMRUN TRAINING_SCENARIO
set -u
simrun=$1
scenario=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $1"; cat "$scratch/stderr"; exit 1; }
# (exec: in the background, $! is then simrun itself, not a subshell)
run() { exec "$simrun" "$scenario" --out "$scratch/out" --quiet --set train.agent=ppo --set train.total_steps=500000 "$@"; }

# 1. Before the first checkpoint (there is none before step 500,000).
run --set train.eval_every_steps=500000 > /dev/null 2> "$scratch/stderr" &
pid=$!
for _ in $(seq 600); do [ -e "$scratch/out" ] && break; sleep 0.05; done  # training has started
sleep 0.5
kill -TERM "$pid"
wait "$pid"
code=$?
[ "$code" -eq 130 ] || fail "exit $code before the first checkpoint, expected 130"
[ ! -e "$scratch/out" ] || fail "a folder with nothing in it was left behind: $(ls -a "$scratch/out")"

# 2. After one.
run --set train.eval_every_steps=2000 > /dev/null 2> "$scratch/stderr" &
pid=$!
for _ in $(seq 600); do [ -e "$scratch/out/last.pt" ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
code=$?
[ "$code" -eq 130 ] || fail "exit $code after a checkpoint, expected 130"
[ -e "$scratch/out/last.pt" ] || fail "last.pt was not kept"
grep -q "continue with --resume" "$scratch/stderr" || fail "no --resume hint"
! ls "$scratch/out" | grep -q tmp || fail "temporary files left: $(ls "$scratch/out")"
(run --set train.eval_every_steps=2000 --set train.total_steps=4000 --resume > /dev/null 2> "$scratch/stderr") ||
  fail "--resume failed"
[ -e "$scratch/out/summary.json" ] || fail "no summary.json after --resume"
echo "ok"
