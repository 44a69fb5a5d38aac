"""Lexical retrieval: BM25 of a task over file contents (from the index's postings), paths and symbol names.

The content side reads the index's per-file term counts, so nothing is re-tokenised per query (a BM25
library would need the whole corpus tokenised in memory on every call). The path and symbol sides are
small bags built from the records themselves: path components and definition names, split into words.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from lingcode.context.index import FileRecord
from lingcode.context.terms import split_word, terms

K1 = 1.2
B = 0.75


TITLE_BOOST = 3.0
"""Weight factor of the terms of a task's first line when more text follows: an issue's title names the
problem in a few words, while its body adds logs, listings and reproduction code that match anything."""


def title_terms(task: str) -> frozenset[str]:
    """The terms of a task's title: its first line, when more text follows (else none)."""
    title, _, body = task.strip().partition("\n")
    return frozenset(terms(title)) if body.strip() else frozenset()


def query_weights(task: str) -> dict[str, float]:
    """The task's terms, each weighted 1 + log(count) (repeated words matter, but sublinearly), and the
    terms of its title (first line, when more text follows) weighted `TITLE_BOOST` times more."""
    weights = {t: 1.0 + math.log(c) for t, c in Counter(terms(task)).items()}
    for term in title_terms(task):
        weights[term] *= TITLE_BOOST
    return weights


def _bm25_add(
    scores: np.ndarray, idx: np.ndarray, tf: np.ndarray, lengths: np.ndarray, weight: float
) -> None:
    n = len(scores)
    df = len(idx)
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    avg = float(lengths.mean()) or 1.0
    scores[idx] += weight * idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[idx] / avg))


def content_bm25(
    conn: sqlite3.Connection, records: Sequence[FileRecord], query: dict[str, float]
) -> np.ndarray:
    """BM25 of every record's content for the weighted query terms."""
    title, body = content_bm25_split(conn, records, query, frozenset())
    total: np.ndarray = title + body
    return total


def content_bm25_split(
    conn: sqlite3.Connection, records: Sequence[FileRecord], query: dict[str, float], title: frozenset[str]
) -> tuple[np.ndarray, np.ndarray]:
    """BM25 of every record's content for the weighted query, as the part of the `title` terms and the
    rest (their sum is the whole score): the learned combiner weighs the two apart."""
    n = len(records)
    parts = np.zeros(n), np.zeros(n)
    by_blob: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        if not rec.status:
            by_blob[rec.blob].append(i)
    lengths = np.array([max(rec.length, 1) for rec in records], dtype=np.float64)
    for term, weight in query.items():
        hits = [
            (i, tf)
            for blob, tf in conn.execute("SELECT blob, tf FROM postings WHERE term = ?", (term,))
            for i in by_blob.get(blob, ())
        ]
        if not hits or len(hits) > n * 0.5:
            continue  # absent, or as common as a stopword in this repository
        idx = np.fromiter((i for i, _ in hits), dtype=np.int64, count=len(hits))
        tf = np.fromiter((t for _, t in hits), dtype=np.float64, count=len(hits))
        _bm25_add(parts[0] if term in title else parts[1], idx, tf, lengths, weight)
    return parts


def bag_bm25(bags: Sequence[Iterable[str]], query: dict[str, float]) -> np.ndarray:
    """BM25 of small per-file word bags (paths, symbol names) for the weighted query terms."""
    n = len(bags)
    scores = np.zeros(n)
    postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
    lengths = np.ones(n)
    for i, bag in enumerate(bags):
        counts = Counter(bag)
        lengths[i] = max(sum(counts.values()), 1)
        for term, count in counts.items():
            if term in query:
                postings[term].append((i, count))
    for term, hits in postings.items():
        if len(hits) > n * 0.5:
            continue
        idx = np.fromiter((i for i, _ in hits), dtype=np.int64, count=len(hits))
        tf = np.fromiter((t for _, t in hits), dtype=np.float64, count=len(hits))
        _bm25_add(scores, idx, tf, lengths, query[term])
    return scores


def path_words(path: str) -> list[str]:
    """A path's words: directories, file stem and extension, split on case and underscores."""
    return terms(path.replace("/", " ").replace(".", " ").replace("-", " "))


def symbol_words(record: FileRecord) -> list[str]:
    """The words of a file's definition names."""
    return [t for name in record.def_names for t in split_word(name)]
