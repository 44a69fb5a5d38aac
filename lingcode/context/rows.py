"""Reading stored rows back: decoded once per process, as records in path order.

Rows are keyed by content, and a content always parses the same way under one schema, so a row decoded
once stays right for the life of the process (per index file and generation, see `memory_key`).
"""

from __future__ import annotations

import marshal
import sqlite3
from collections.abc import Collection, Iterable

from lingcode.context.index import FileRecord, StoredDefinitions

Row = tuple[str, str | None, str, str, int, bytes]
"""(status, language, definition names, references, length, packed definitions) of one stored blob."""

_ROWS: dict[str, dict[str, Row]] = {}
_SCAN_ALL = 2000  # above this many unknown blobs one pass over the table beats keyed look-ups


def memory_key(conn: sqlite3.Connection) -> str | None:
    """Names this index file's life (path and generation) for what a process remembers; None in memory."""
    row = conn.execute("PRAGMA database_list").fetchone()
    gen = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    if row is None or not row[2] or gen is None:
        return None
    return f"{row[2]}\0{gen[0]}"


def _rows_cache(conn: sqlite3.Connection) -> dict[str, Row]:
    """The process's memory of decoded rows for this index file (a throwaway dict for in-memory ones).

    Rows are keyed by content and a content always parses the same way under one schema, so what was
    decoded once stays right for the life of the process: an agent asks for records many times a run.
    """
    key = memory_key(conn)
    return {} if key is None else _ROWS.setdefault(key, {})


def prefetch(conn: sqlite3.Connection, blobs: set[str]) -> Collection[str]:
    """Read the stored rows of these blob ids into the process's memory; the ids it now holds rows for."""
    cache = _rows_cache(conn)
    missing = {b for b in blobs if b not in cache}
    if missing:
        _fetch_rows(conn, missing, cache)
    return cache.keys()


def fetch_rows(conn: sqlite3.Connection, blobs: set[str]) -> dict[str, Row]:
    """The stored rows of these blob ids (those the index has), decoded."""
    cache = _rows_cache(conn)
    missing = {b for b in blobs if b not in cache}
    if missing:
        _fetch_rows(conn, missing, cache)
    return {b: cache[b] for b in blobs if b in cache}


def load_definitions(conn: sqlite3.Connection, records: Iterable[FileRecord]) -> None:
    """Fill in the packed definitions of records kept without them, with one query for all."""
    lazy = [rec for rec in records if isinstance(rec.packed_definitions, StoredDefinitions)]
    rows = fetch_rows(conn, {rec.blob for rec in lazy}) if lazy else {}
    for rec in lazy:
        row = rows.get(rec.blob)
        if row is not None:
            rec.packed_definitions = row[5]


def set_lengths(conn: sqlite3.Connection, lengths: dict[str, int]) -> None:
    """Update the process's decoded rows after their terms were counted (see `termindex`)."""
    cache = _rows_cache(conn)
    for blob, length in lengths.items():
        row = cache.get(blob)
        if row is not None:
            cache[blob] = (row[0], row[1], row[2], row[3], length, row[5])


def _decode(status: str, length: int, data: bytes) -> Row:
    lang, names, refs, packed = marshal.loads(data)
    return status, lang, names, refs, length, packed


def _fetch_rows(conn: sqlite3.Connection, wanted: set[str], cache: dict[str, Row]) -> None:
    """Decode the rows of `wanted` blobs into `cache`."""
    if len(wanted) > _SCAN_ALL:
        query = conn.execute("SELECT blob, status, length, data FROM blobs")
        for b, s, n, d in query:
            if b in wanted:
                cache[b] = _decode(s, n, d)
        return
    chunk = sorted(wanted)
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        marks = ",".join("?" * len(part))
        sql = f"SELECT blob, status, length, data FROM blobs WHERE blob IN ({marks})"
        for b, s, n, d in conn.execute(sql, part):
            cache[b] = _decode(s, n, d)


def load_records(conn: sqlite3.Connection, blobs: dict[str, str]) -> list[FileRecord]:
    """Records for the given path -> blob map, in path order; files missing from the index are skipped."""
    cache = _rows_cache(conn)
    missing = {b for b in blobs.values() if b not in cache}
    if missing:
        _fetch_rows(conn, missing, cache)
    out: list[FileRecord] = []
    for path in sorted(blobs):
        row = cache.get(blobs[path])
        if row is not None:
            status, lang, names, refs, length, packed = row
            out.append(FileRecord(path, blobs[path], status, lang, names, refs, length, packed))
    return out
