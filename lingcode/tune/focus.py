"""The reply tokens that carry a fix: the REPLACE lines that differ from their SEARCH.

A fix block is mostly a copy: a few lines of context, the same in SEARCH and REPLACE, around the one or two
lines the fix changes. With every reply token weighted alike, the tokens that decide the fix are a small
share of the loss, and a small model learns the copy better than the change: r6 (benchmarks/RESULTS.md)
wrote blocks whose REPLACE repeats the broken SEARCH for most held-out tasks. Training can weight these
tokens more (`lingcode tune --focus-weight`); this module finds them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingcode.tune.chat import Tokenizer

_BLOCK_RE = re.compile(
    r"^<<<<<<< SEARCH\n(?P<search>.*?)^=======\n(?P<replace>.*?)^>>>>>>> REPLACE$",
    re.MULTILINE | re.DOTALL,
)


def shared_ends(before: Sequence[str], after: Sequence[str]) -> tuple[int, int]:
    """How many lines two versions share at their start, then at their end (not overlapping the start)."""
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while tail < min(len(before), len(after)) - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    return head, tail


def changed_spans(reply: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of the reply's REPLACE lines that are not in their SEARCH's frame.

    The frame is the lines SEARCH and REPLACE share at their start and end; what lies between, on the
    REPLACE side, is the change. A block that only deletes lines has none (nothing new to write).
    """
    spans = []
    for block in _BLOCK_RE.finditer(reply):
        search = block["search"].splitlines(keepends=True)
        replace = block["replace"].splitlines(keepends=True)
        head, tail = shared_ends(search, replace)
        start = block.start("replace") + sum(map(len, replace[:head]))
        end = block.end("replace") - sum(map(len, replace[len(replace) - tail :]))
        if end > start:
            spans.append((start, end))
    return spans


def focus_tokens(
    tokenizer: Tokenizer, reply: str, whole: Sequence[int], spans: Sequence[tuple[int, int]]
) -> tuple[int, ...] | None:
    """The indices into `whole` (the reply's tokens) of those that overlap `spans`; None when unclear.

    A Hugging Face fast tokenizer says where each token lies (its offset mapping). Any other is asked
    piece by piece, the reply cut at the span borders (line starts); when the pieces' tokens joined differ
    from the whole reply's, a token straddles a border and no index is given.
    """
    if not spans:
        return None
    offsets = _offsets(tokenizer, reply, len(whole))
    if offsets is not None:
        hit = [i for i, (low, high) in enumerate(offsets) if any(low < e and s < high for s, e in spans)]
        return tuple(hit)
    cuts = sorted({0, len(reply), *(p for span in spans for p in span)})
    joined: list[int] = []
    focus: list[int] = []
    for low, high in itertools.pairwise(cuts):
        piece = tokenizer.encode(reply[low:high], add_special_tokens=False)
        if any(start <= low and high <= end for start, end in spans):
            focus.extend(range(len(joined), len(joined) + len(piece)))
        joined.extend(piece)
    return tuple(focus) if joined == list(whole) else None


def _offsets(tokenizer: Tokenizer, text: str, count: int) -> list[tuple[int, int]] | None:
    """Each token's character span from a fast tokenizer's offset mapping; None from any other tokenizer."""
    if not getattr(tokenizer, "is_fast", False):
        return None
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)  # type: ignore[operator]
    offsets = [(int(low), int(high)) for low, high in encoded["offset_mapping"]]
    return offsets if len(offsets) == count else None
