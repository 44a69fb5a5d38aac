"""Counting tokens: the served model's tokenizer when one is at hand, else a calibrated estimate.

The estimate is bytes / 3.2, rounded up per piece. Code BPE vocabularies (Llama 3, Qwen 2.5, Gemma 3,
Ling-Coder) average roughly 3.3 to 4.2 UTF-8 bytes per token on Python, JavaScript and prose, so 3.2
errs on the side of counting more tokens than the model will, and a rendered context never overruns the
model's window because of it. Summing the rounded-up counts of pieces is an upper bound of the count of
their concatenation, which lets the renderer add pieces without recounting the whole text.
"""

from __future__ import annotations

import math
from collections.abc import Callable

BYTES_PER_TOKEN = 3.2

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """An upper-leaning estimate of the tokens in text (see the module docstring)."""
    return math.ceil(len(text.encode("utf-8", errors="replace")) / BYTES_PER_TOKEN)


def counter(count_tokens: Callable[[str], int | None] | None) -> tuple[TokenCounter, bool]:
    """A counting function, and whether it is the model's own (exact) tokenizer."""
    if count_tokens is None:
        return estimate_tokens, False
    probe = count_tokens("probe")
    if probe is None:
        return estimate_tokens, False

    def exact(text: str) -> int:
        got = count_tokens(text)
        return got if got is not None else estimate_tokens(text)

    return exact, True
