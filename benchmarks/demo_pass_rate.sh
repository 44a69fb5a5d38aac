#!/usr/bin/env bash
# The README's demo (scripts/demo.sh) over several seeds: how often the embedded default fixes the calc bug.
#
#     benchmarks/demo_pass_rate.sh [SEEDS] [TEMPERATURE]      (default: 10 seeds, temperature 0.8)
#
# Prints one line per seed (status, whether the tests passed, wall seconds) and the pass rate; each run's JSON
# result and stderr are kept in a temporary folder it names. Serves whatever `scripts/demo.sh` serves: the
# default adapter from `lingcode tune` when there is one (the demo's first line says which).
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
seeds="${1:-10}"
temperature="${2:-0.8}"
out="$(mktemp -d "${TMPDIR:-/tmp}/demo-rate.XXXXXX")"
python="$here/.venv/bin/python"
echo "results in $out"
passed=0
for seed in $(seq 1 "$seeds"); do
    start=$(date +%s)
    DEMO_SEED="$seed" DEMO_TEMPERATURE="$temperature" bash "$here/scripts/demo.sh" \
        >"$out/$seed.json" 2>"$out/$seed.err"
    rc=$?
    wall=$(( $(date +%s) - start ))
    line="$("$python" - "$out/$seed.json" <<'PY'
import json, sys
try:
    result = json.load(open(sys.argv[1]))
    print(result["status"], "passed" if result.get("tests_passed") else "failing", result["iterations"])
except (OSError, ValueError, KeyError):
    print("no-result - -")
PY
)"
    read -r status tests rounds <<<"$line"
    [ "$status" = passed ] && passed=$((passed + 1))
    printf 'seed %2d  exit %d  %-18s tests %-8s rounds %s  %4d s\n' "$seed" "$rc" "$status" "$tests" "$rounds" "$wall"
done
echo "fixed: $passed of $seeds"
