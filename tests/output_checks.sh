#!/usr/bin/env bash
# simrun (and simcompare) refuse, before any work, outputs it could not write or that would overwrite an
# input: exit 2, a message naming the path, the input untouched.
#   output_checks.sh SIMRUN SCENARIO
set -u
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $1"; cat "$scratch/stderr"; exit 1; }
# The scenario file is called summary.json and sits in the output folder.
cp "$2" "$scratch/summary.json"
"$1" "$scratch/summary.json" --out "$scratch" --quiet > /dev/null 2> "$scratch/stderr"
code=$?
[ "$code" -eq 2 ] || fail "scenario as output: exit $code, expected 2"
grep -q "is also this run's input" "$scratch/stderr" || fail "scenario as output: no message"
cmp -s "$2" "$scratch/summary.json" || fail "the scenario file was changed"
# A trace file called windows.csv in the output folder (any "path" of the scenario counts).
scenario_dir=$(dirname "$2")
cp "$scenario_dir/../tests/data/requests.csv" "$scratch/windows.csv"
cp "$scratch/windows.csv" "$scratch/trace-before.csv"
"$1" "$scenario_dir/example-requests-csv.json" --out "$scratch" --quiet --set "trace.path=$scratch/windows.csv" \
  > /dev/null 2> "$scratch/stderr"
code=$?
[ "$code" -eq 2 ] || fail "trace as output: exit $code, expected 2"
grep -q "is also this run's input" "$scratch/stderr" || fail "trace as output: no message"
cmp -s "$scratch/trace-before.csv" "$scratch/windows.csv" || fail "the trace file was changed"
# simcompare's --out naming its own scenario.
cp "$2" "$scratch/compare.json"
"$(dirname "$1")/simcompare" "$scratch/compare.json" --seeds 1 --out "$scratch/compare.json" > /dev/null 2> "$scratch/stderr"
code=$?
[ "$code" -eq 2 ] || fail "simcompare, scenario as output: exit $code, expected 2"
cmp -s "$2" "$scratch/compare.json" || fail "simcompare changed the scenario file"
# A folder that exists but takes no files, even for root.
"$1" "$2" --out /proc/self --quiet > /dev/null 2> "$scratch/stderr"
code=$?
[ "$code" -eq 2 ] || fail "unwritable folder: exit $code, expected 2"
grep -q "/proc/self: cannot write files there" "$scratch/stderr" || fail "unwritable folder: no message"
echo "ok"
