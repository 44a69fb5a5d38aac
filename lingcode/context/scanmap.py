"""The task-free map of a repository the index has not parsed: ranked from a scan, rendered from parses.

See `scan.py` for why. Ranking is `rank_files` over scan records; then the files are parsed in rank order,
a batch at a time (doubling), until the map is full: a 4,096-token map shows ~10 files.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from lingcode.config import ContextConfig
from lingcode.context import index as idx
from lingcode.context import rows, scan
from lingcode.context.index import FileRecord
from lingcode.context.tokens import counter

if TYPE_CHECKING:
    from lingcode.context.refindex import Basis
    from lingcode.context.render import Shown

SCAN_MIN = 400
"""A cold map of at least this many files ranks from a scan; fewer parse in about a second anyway."""
_FIRST_BATCH = 8


def wants_scan(conn: sqlite3.Connection, listed: int) -> bool:
    """Whether a task-free map should rank from a scan: many files and no full index kept yet."""
    from lingcode.context import refindex

    return listed >= SCAN_MIN and refindex.stored(conn) is None


def scanned_map(
    conn: sqlite3.Connection,
    root: Path,
    blobs: dict[str, str],
    basis: Basis | None,
    changed: list[str],
    budget: int,
    config: ContextConfig,
    progress: bool,
) -> str:
    """The map text: scan what the index has no scan of, rank, parse and render the top files.

    The scanned records' reference index is kept (`scan.KEPT`) and patched like the parsed one's, so a
    map after one edited file scans that file and rebuilds nothing.
    """
    from lingcode.context import refindex
    from lingcode.context.rank import rank_files

    base = refindex.stored(conn, scan.KEPT)
    change = refindex.diff(base, blobs, basis) if base is not None else None
    wanted = blobs if change is None else {p: blobs[p] for p in change.changed}
    scans = scan.stored_scans(conn, set(wanted.values()))
    missing = sorted({b: p for p, b in wanted.items() if b not in scans}.items(), key=lambda bp: bp[1])
    if missing:
        draw = idx.tty_progress("scanning") if progress else None
        scan.scan_missing(conn, str(root), [(p, b) for b, p in missing], config.max_file_bytes, draw)
        scan.forget_stale(conn, blobs.values(), len(blobs))
    records = refindex.records_for(conn, base, blobs, basis, change, kept=scan.KEPT, source=scan.SOURCE)
    order = [r.index for r in rank_files(conn, records, "", (), changed)]
    return _render_parsed(conn, root, list(records), order, budget, config)


def _render_parsed(
    conn: sqlite3.Connection,
    root: Path,
    records: list[FileRecord],
    order: list[int],
    budget: int,
    config: ContextConfig,
) -> str:
    """Render the ranked files, parsing them in rank order, a batch at a time, until the map is full.

    Files not parsed yet render as bare paths. The map is full once a parsed file's definitions did not
    fit (it shows as a bare path too) or the listing ended before the parsed ones did.
    """
    from lingcode.context.render import reader, render

    count, exact = counter(None)
    read = reader(root, config.redact_secrets, config.max_file_bytes)
    # unparsed: no names, so an entry is a bare path (its definitions are not known yet)
    shown = [FileRecord(r.path, r.blob, r.status, r.language, "", "", r.length) for r in records]
    done, size = 0, _FIRST_BATCH
    while True:
        batch = order[done : done + size]
        _parse_into(conn, root, shown, batch, config.max_file_bytes)
        done += len(batch)
        out = render(shown, order, budget, count, exact, read, full_limit=0)
        if done >= len(order) or any(_full(shown[i], out.mapped, out.shown) for i in order[:done]):
            return out.text
        size *= 2


def _full(record: FileRecord, mapped: set[str], shown: dict[str, Shown]) -> bool:
    """Whether a parsed file's entry says the map is full: left out, or its definitions cut to the path."""
    if record.path not in mapped:
        return True
    return bool(record.def_names) and shown[record.path].kind == "path"


def _parse_into(
    conn: sqlite3.Connection, root: Path, shown: list[FileRecord], batch: list[int], limit: int
) -> None:
    """Replace the batch's scan records with parsed ones, parsing (and keeping) what the index lacks."""
    wanted = {shown[i].blob: shown[i].path for i in batch}
    have = rows.fetch_rows(conn, set(wanted))
    todo = sorted((path, blob) for blob, path in wanted.items() if blob not in have)
    if todo:
        idx.store(conn, idx.parse_missing(root, todo, limit, None, terms=False))
        have = rows.fetch_rows(conn, set(wanted))
    for i in batch:
        row = have.get(shown[i].blob)
        if row is not None:
            status, lang, names, refs, length, packed = row
            shown[i] = FileRecord(shown[i].path, shown[i].blob, status, lang, names, refs, length, packed)
