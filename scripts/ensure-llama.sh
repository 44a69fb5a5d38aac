#!/usr/bin/env bash
# Make sure the venv's llama-cpp-python runs the embedded model on this machine; rebuild it portably if not.
#
#     scripts/ensure-llama.sh [VENV]          (default: .venv beside this checkout)
#
# Why: llama-cpp-python ships only an sdist, and its build targets the building CPU (GGML_NATIVE). On some
# virtual machines that build dies on its first generation (SIGSEGV in libggml-cpu: the CPU advertises
# AVX-512/AMX features the VM does not fully allow), and pip's wheel cache then hands the same broken wheel to
# every later install. This script generates 8 tokens with the embedded model in a child process; if that dies
# by a signal it installs a portable build (AVX2, no native CPU features) instead: from
# ~/.cache/lingcode/wheels when one built earlier passes the same check, else built now (10-18 minutes on 2
# cores) and kept there for next time. Exits 0 when the model runs, 1 when no build could be made to run it.
# Does nothing (exit 0) when llama-cpp-python is not installed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$here/.venv}"
python="$venv/bin/python"
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/lingcode/wheels"
portable="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"

version="$("$python" -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))' 2>/dev/null)" \
    || exit 0

runs() {  # 0 when the embedded model generates with the installed build; the subshell waits for the child
    # (the `exit` keeps it from exec-ing python), so bash's report of a crash goes to /dev/null too
    (
        "$python" - <<'EOF'
from llama_cpp import Llama
from lingcode.model.gguf import embedded_model_path
llm = Llama(model_path=str(embedded_model_path()), n_ctx=512, n_threads=2, verbose=False)
llm("def add(a, b):\n    return a + b\n" * 8, max_tokens=8, temperature=0.0)
EOF
        exit $?
    ) >/dev/null 2>&1
}

install() { "$python" -m pip install -q --force-reinstall --no-deps --no-index "$1"; }

if runs; then
    exit 0
fi
echo "ensure-llama: llama-cpp-python $version crashes on this CPU; installing a portable build" >&2
mkdir -p "$wheels"
for wheel in "$wheels"/llama_cpp_python-"$version"-*.whl; do
    [ -e "$wheel" ] || continue
    install "$wheel" && runs && { echo "ensure-llama: using $wheel" >&2; exit 0; }
done
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
echo "ensure-llama: building llama-cpp-python $version without native CPU features (10-18 minutes)" >&2
CMAKE_ARGS="$portable" "$python" -m pip wheel -q --no-deps --no-cache-dir -w "$build" \
    "llama-cpp-python==$version"
wheel="$(ls "$build"/llama_cpp_python-*.whl)"
install "$wheel"
if runs; then
    # whole or not at all: only a wheel that ran is kept, copied under a name the lookup above skips
    cp "$wheel" "$wheels/.partial" && mv "$wheels/.partial" "$wheels/$(basename "$wheel")"
    echo "ensure-llama: portable build installed and kept in $wheels" >&2
    exit 0
fi
echo "ensure-llama: the portable build crashes too; see README, 'Troubleshooting'" >&2
exit 1
