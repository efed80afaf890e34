#!/usr/bin/env bash
# Memory when reading a full-size Azure 2019 day file: generates a synthetic
# invocations_per_function_md file of the real one's shape (46,000 functions x 1440
# minutes, about 190 MB; the real day file is about 140 MB) in a temporary folder,
# selects its last function with simrun,
# and prints the file size, the wall time and simrun's peak resident memory.
#   bench/large_trace.sh [SIMRUN]   (default build/apps/simrun)
set -euo pipefail
simrun=${1:-build/apps/simrun}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/invocations.csv" <<'PY'
import sys
functions, minutes = 46000, 1440
with open(sys.argv[1], "w") as out:
    out.write("HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(m) for m in range(1, minutes + 1)) + "\n")
    row = "," + ",".join(str((m * 7919) % 113) for m in range(minutes)) + "\n"
    for f in range(functions):
        out.write(f"owner{f % 997},app{f % 4999},fn{f},http{row}")
PY
cat > "$work/scenario.json" <<JSON
{"name": "large-trace", "seed": 1, "control_interval_s": 60,
 "trace": {"format": "azure-2019", "path": "$work/invocations.csv",
           "hash_owner": "owner$((45999 % 997))", "hash_app": "app$((45999 % 4999))", "hash_function": "fn45999"},
 "function": {"service": {"dist": "exponential", "mean_s": 0.05},
              "cold_start": {"dist": "deterministic", "mean_s": 1}, "max_inflight": 4},
 "platform": {"max_replicas": 100, "initial_replicas": 20, "queue_capacity": 1000},
 "autoscaler": {"kind": "static", "replicas": 20}}
JSON
echo "file: $(du -m "$work/invocations.csv" | cut -f1) MB, 46000 functions"
/usr/bin/time -f "wall %e s, peak resident memory %M KiB" "$simrun" "$work/scenario.json" --out "$work/out" --quiet > /dev/null
