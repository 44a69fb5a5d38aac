"""Passage-level scoring: a candidate file ranks by its best-matching definitions, not by its whole text.

File-level BM25 favours large hub modules, which hold every word of a task somewhere; the file to change
usually holds them together, in one function. So the text of the top candidates is cut into passages
(each leaf definition: a function, a method, a constant; and the lines outside every definition, in
chunks), the passages are scored with BM25 against the task (document frequencies over the candidates'
passages), and each file scores its best passage plus half its second best.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from lingcode.context.index import Def
from lingcode.context.terms import split_word

K1 = 1.2
B = 0.75
CHUNK_LINES = 40
"""Lines outside every definition are scored in chunks of this many lines."""
SECOND_BEST = 0.5
"""Weight of a file's second-best passage: two matching functions beat one, but less than twice."""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def leaf_spans(defs: Sequence[Def]) -> list[tuple[int, int]]:
    """(first, last) 1-based lines of the definitions that hold no other definition."""
    spans = sorted({(d[2], d[3]) for d in defs}, key=lambda s: (s[0], -s[1]))
    leaves = []
    for k, (start, end) in enumerate(spans):
        # sorted by start then by widest first, a definition holds another exactly when the next one
        # starts inside it
        if k + 1 < len(spans) and spans[k + 1][0] <= end:
            continue
        leaves.append((start, end))
    return leaves


def split_passages(text: str, defs: Sequence[Def]) -> list[str]:
    """The text's passages: each leaf definition, then the remaining lines in chunks."""
    lines = text.splitlines()
    covered = bytearray(len(lines))
    out = []
    for start, end in leaf_spans(defs):
        out.append("\n".join(lines[start - 1 : end]))
        covered[start - 1 : end] = b"\1" * len(covered[start - 1 : end])
    rest = [line for line, inside in zip(lines, covered, strict=True) if not inside]
    out.extend("\n".join(rest[i : i + CHUNK_LINES]) for i in range(0, len(rest), CHUNK_LINES))
    return out


class _TermFinder:
    """Counts a query's terms in passages; remembers which words hold query terms across files."""

    def __init__(self, query: Mapping[str, float]) -> None:
        self.query = query
        self.seen: set[str] = set()
        self.relevant: dict[str, tuple[str, ...]] = {}

    def counts(self, passage: str) -> tuple[Counter[str], int]:
        """Counts of the query's terms in a passage, and the passage's length in words."""
        words = Counter(_WORD.findall(passage))
        for word in words.keys() - self.seen:  # set operations in C: a word is split once per ranking
            self.seen.add(word)
            hits = tuple(t for t in split_word(word) if t in self.query)
            if hits:
                self.relevant[word] = hits
        found: Counter[str] = Counter()
        for word in words.keys() & self.relevant.keys():
            for term in self.relevant[word]:
                found[term] += words[word]
        return found, sum(words.values())


def passage_scores(
    texts: Mapping[int, str], defs: Mapping[int, Sequence[Def]], query: Mapping[str, float]
) -> dict[int, float]:
    """Each candidate's best passage BM25 plus `SECOND_BEST` times its second best.

    `texts` and `defs` map a record index to the file's text and definitions; `query` weights terms.
    """
    owners: list[int] = []
    counts: list[Counter[str]] = []
    lengths: list[int] = []
    finder = _TermFinder(query)
    for i, text in texts.items():
        for passage in split_passages(text, defs.get(i, ())):
            found, length = finder.counts(passage)
            owners.append(i)
            counts.append(found)
            lengths.append(length)
    if not owners:
        return {}
    n = len(owners)
    df: Counter[str] = Counter()
    for found in counts:
        df.update(found.keys())
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    avg = float(np.mean(lengths)) or 1.0
    best: dict[int, list[float]] = {}
    for owner, found, length in zip(owners, counts, lengths, strict=True):
        norm = K1 * (1 - B + B * length / avg)
        score = sum(query[t] * idf[t] * tf * (K1 + 1) / (tf + norm) for t, tf in found.items())
        top = best.setdefault(owner, [0.0, 0.0])
        if score > top[0]:
            top[0], top[1] = score, top[0]
        elif score > top[1]:
            top[1] = score
    return {i: first + SECOND_BEST * second for i, (first, second) in best.items()}
