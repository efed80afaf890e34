#!/usr/bin/env bash
# Runs one bad-input case through simrun: CASE.json (plus arguments from CASE.args if
# present) must make simrun exit 2, print the text of CASE.expect on stderr, and create
# nothing at the --out folder.
#   check.sh SIMRUN CASE.json
set -u
simrun=$1
case_file=$2
expect_file=${case_file%.json}.expect
args_file=${case_file%.json}.args
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
out="$scratch/out"
extra=()
[ -f "$args_file" ] && read -r -a extra < "$args_file"
"$simrun" "$case_file" --out "$out" --quiet "${extra[@]}" > "$scratch/stdout" 2> "$scratch/stderr"
code=$?
fail() { echo "FAIL $(basename "$case_file"): $1"; echo "--- stderr:"; cat "$scratch/stderr"; exit 1; }
[ "$code" -eq 2 ] || fail "exit code $code, expected 2"
grep -qF -- "$(cat "$expect_file")" "$scratch/stderr" || fail "stderr lacks: $(cat "$expect_file")"
[ ! -e "$out" ] || fail "an output folder was created"
[ ! -s "$scratch/stdout" ] || fail "something was printed on stdout"
echo "ok $(basename "$case_file"): $(head -c 300 "$scratch/stderr")"
