#!/usr/bin/env bash
# lingcode's main job on the embedded default model: copy examples/calc (a tiny project with a failing
# test) into a fresh git repository outside this checkout and let `lingcode run` try to fix it.
#
# Exits 0 when lingcode ran to a clean end (fixed, still failing, edits rejected or a limit reached: a
# 270M model often fails), and with lingcode's own exit code when it could not run
# (2 usage/config, 3 model server unavailable, 70 internal error).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
lingcode="${LINGCODE:-$here/.venv/bin/lingcode}"
[ -x "$lingcode" ] || lingcode="$(command -v lingcode)"

# a native llama-cpp-python build can crash on some CPUs (VMs): swap in a portable one first (a no-op elsewhere)
venv="$(dirname "$(dirname "$lingcode")")"
[ -x "$venv/bin/python" ] && "$here/scripts/ensure-llama.sh" "$venv"

work="$(mktemp -d "${TMPDIR:-/tmp}/lingcode-demo.XXXXXX")"
cp -R "$here/examples/calc/." "$work/"
git -C "$work" init -q -b main
git -C "$work" add -A
git -C "$work" -c user.name=demo -c user.email=demo@lingcode.invalid commit -qm "calc: a failing test"
echo "demo repository: $work" >&2
adapter="${XDG_DATA_HOME:-$HOME/.local/share}/lingcode/adapters/default"
shipped="$here/lingcode/adapters/embedded"
settings=()
if [ -e "$adapter" ]; then
    cat >&2 <<NOTE
demo: this runs on the embedded default, Gemma 3 270M, with the adapter that \`lingcode tune\` left in
demo: $adapter (served when it checks out: the next lines say; --no-lora on \`lingcode serve\` turns it off).
NOTE
elif [ -e "$shipped/manifest.json" ]; then
    # lingcode serves the adapter it ships on the embedded model by itself (lingcode.model.embedded)
    cat >&2 <<NOTE
demo: this runs on the embedded default, Gemma 3 270M, with the LoRA adapter that ships with lingcode
demo: ($shipped: trained by \`lingcode tune\` on lingcode's own code and flask, requests and click, never on
demo: examples/; its manifest.json says how). A small model that fixed a bug like this one in 10 of 10 seeded
demo: tries, each in its first round, judged by the tests.
NOTE
else
    cat >&2 <<'NOTE'
demo: this runs on the embedded default, an untuned Gemma 3 270M base model (no adapter from `lingcode tune`).
NOTE
fi
cat >&2 <<'NOTE'
demo: It shows the machinery end to end (context, constrained edits, tests, the loop); a 270M model still
demo: fails on most real bugs (benchmarks/RESULTS.md, "Demo pass rate"). For real work point lingcode at a
demo: real coding model:
demo:   lingcode run "..." --model-url http://HOST:PORT/v1 --model NAME
demo: or set [model] base_url / model in ~/.config/lingcode/config.toml (README, "Use a real model").
NOTE

# DEMO_SEED / DEMO_TEMPERATURE sample other replies (benchmarks/RESULTS.md measures the pass rate over seeds)
[ -n "${DEMO_SEED:-}" ] && settings+=(-c "model.seed=$DEMO_SEED")
[ -n "${DEMO_TEMPERATURE:-}" ] && settings+=(-c "model.temperature=$DEMO_TEMPERATURE")

set +e
"$lingcode" "${settings[@]}" run "Fix the bug that makes test_average in test_calc.py fail." \
    --root "$work" --test-cmd "$(dirname "$lingcode")/python -m pytest -q" --max-iterations "${DEMO_ITERATIONS:-4}" \
    --output-format json "$@"
rc=$?
set -e
case "$rc" in
    0) echo "demo: the tests pass now; see the change with: git -C $work diff" >&2 ;;
    1|4|5) echo "demo: lingcode ran to a clean end (exit $rc); the tiny embedded model did not fix the bug." \
                "Point it at a real coding model for that (README, 'Use a real model')." >&2 ;;
    *) exit "$rc" ;;
esac
