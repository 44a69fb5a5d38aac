"""The index's term counts (BM25 postings and document lengths), filled in when a ranking first needs them.

A task-free map ranks by the reference graph alone, so `lingcode map` stores each file's tags without
counting its words (its length is `index.NO_TERMS`): on a cold index, counting terms and writing their
postings cost as much as the tree-sitter tags. The first snapshot that may rank for a task counts the
terms of those files (in a process pool when there are many), stores their postings and lengths, and
sets the lengths on the records it returns, so ranking sees the index it would have seen had every
file been counted when first parsed.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from lingcode.context import index as idx
from lingcode.context.index import FileRecord
from lingcode.context.pool import CHUNK, Job, in_pool

Counted = tuple[str, int, dict[str, int]]
"""(blob, length, term counts) of one file."""


def count_file(root: str, path: str, blob: str, max_bytes: int) -> Counted | None:
    """The term counts of one file's content; None when it is gone or no longer has that content."""
    from lingcode.context.terms import term_counts

    try:
        with open(os.path.join(root, path), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None
    # the file may have changed since it was listed: its words would belong to another content
    if idx.blob_id(data) != blob:
        return None
    try:
        counts = term_counts(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return blob, sum(counts.values()), counts


def _count_chunk(job: Job) -> list[Counted]:
    root, items, max_bytes, _terms = job
    return [c for path, blob in items if (c := count_file(root, path, blob, max_bytes)) is not None]


def _stored_lengths(conn: sqlite3.Connection, blobs: Sequence[str]) -> dict[str, int]:
    """Lengths another process counted since these records were kept (rows no longer `NO_TERMS`)."""
    out: dict[str, int] = {}
    for start in range(0, len(blobs), 500):
        part = blobs[start : start + 500]
        marks = ",".join("?" * len(part))
        sql = f"SELECT blob, length FROM blobs WHERE length >= 0 AND blob IN ({marks})"
        out.update(conn.execute(sql, part))
    return out


def fill_terms(
    conn: sqlite3.Connection,
    root: Path,
    records: Sequence[FileRecord],
    max_bytes: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Count the terms of records not counted yet, store them, and set the records' lengths.

    Returns blob -> length for every content it counted or found counted (empty when none was lacking).
    """
    lazy = [rec for rec in records if rec.length == idx.NO_TERMS]
    if not lazy:
        return {}
    lengths = _stored_lengths(conn, sorted({rec.blob for rec in lazy}))
    todo: dict[str, str] = {}
    for rec in lazy:
        if rec.blob not in lengths:
            todo.setdefault(rec.blob, rec.path)  # one count per content, however many paths share it
    items = sorted((path, blob) for blob, path in todo.items())
    jobs: list[Job] = [
        (str(root), items[at : at + CHUNK], max_bytes, True) for at in range(0, len(items), CHUNK)
    ]
    with conn:
        for blob, length, counts in in_pool(_count_chunk, jobs, progress):
            conn.execute("DELETE FROM postings WHERE blob = ?", (blob,))
            conn.executemany(
                "INSERT INTO postings VALUES (?, ?, ?)", ((t, blob, n) for t, n in counts.items())
            )
            conn.execute("UPDATE blobs SET length = ? WHERE blob = ?", (length, blob))
            lengths[blob] = length
    for rec in lazy:
        # a file that changed under us stays uncounted (BM25 takes it as a one-word file) until next time
        rec.length = lengths.get(rec.blob, idx.NO_TERMS)
    return lengths
