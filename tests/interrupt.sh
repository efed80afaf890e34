#!/usr/bin/env bash
# simrun stopped by SIGTERM mid-run: exit 130, no output folder, no temporary file.
#   interrupt.sh SIMRUN SCENARIO
set -u
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$1" "$2" --out "$scratch/out" --quiet --set trace.rate_per_s=100000 --set duration_s=1e6 > /dev/null 2> "$scratch/stderr" &
pid=$!
# Wait until simrun's own code runs (its output folder exists; loading libtorch takes up
# to a second before main, where a signal would still take its default action).
for _ in $(seq 600); do [ -e "$scratch/out" ] && break; sleep 0.05; done
sleep 0.3
kill -TERM "$pid"
wait "$pid"
code=$?
[ "$code" -eq 130 ] || { echo "FAIL: exit $code, expected 130"; cat "$scratch/stderr"; exit 1; }
[ ! -e "$scratch/out" ] || { echo "FAIL: output left behind:"; ls -la "$scratch/out"; exit 1; }
grep -q "stopped by signal" "$scratch/stderr" || { echo "FAIL: no message"; cat "$scratch/stderr"; exit 1; }
echo "ok: $(cat "$scratch/stderr")"
