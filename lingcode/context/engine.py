"""The context engine's entry points: bring the index up to date, rank, render within a budget."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lingcode.config import ContextConfig
from lingcode.context import index as idx
from lingcode.context import rows
from lingcode.context.files import (
    GitListing,
    git_listing,
    ignore_rules,
    list_files,
    tracked_files,
    tracked_key,
)
from lingcode.context.index import FileRecord
from lingcode.context.tokens import BYTES_PER_TOKEN, counter

if TYPE_CHECKING:
    from lingcode.context.rank import Ranked
    from lingcode.context.render import Shown


@dataclass(frozen=True)
class RankedFile:
    """A candidate file: repo-relative path, score in [0, 1], whether its text is in the context, and why.

    `included` is true for files sent whole and for top files too large for that, sent as an excerpt of
    the parts matching the task (listed in `Context.excerpted`); the map lists the others' definitions.
    """

    path: str
    score: float
    included: bool
    reason: str


@dataclass(frozen=True)
class Context:
    """The context for a task: every candidate file in rank order, the rendered text and its token count."""

    files: list[RankedFile]
    text: str
    tokens: int
    budget: int
    excerpted: list[str] = field(default_factory=list)
    """Included files too large to send whole, sent as excerpts of the parts matching the task."""
    shown: dict[str, Shown] = field(default_factory=dict)
    """Per path in the text, what of it the model is shown (whole, excerpt lines, map symbols)."""


@dataclass
class Snapshot:
    """The index brought up to date: an open connection and one record per candidate file."""

    conn: sqlite3.Connection
    blobs: dict[str, str]
    changed: list[str]
    basis: tuple[str, tuple[str, ...]] | None = None
    """The tracked listing's key and the paths git reports modified or untracked (see `refindex.Basis`)."""
    _records: list[FileRecord] | None = None

    @property
    def records(self) -> list[FileRecord]:
        """One record per candidate file, in path order (loaded on first use: a cached map needs none)."""
        if self._records is None:
            from lingcode.context import refindex  # numpy: not imported on a cached map's path

            base = refindex.stored(self.conn)
            self._records = refindex.records_for(self.conn, base, self.blobs, self.basis)
        return self._records


def _open(root: Path, raw: GitListing | None = None) -> Snapshot:
    """List the repository's files and their content ids, without parsing anything yet."""
    root = root.resolve()
    raw = raw or git_listing(root)
    conn = idx.connect(root)
    tracked = None
    basis = None
    if raw is not None:
        # filtering every tracked path costs ~0.6 s at 50,000 files: the index keeps the answer per git index
        key = tracked_key(root, raw[0])
        tracked = idx.load_listing(conn, key)
        if tracked is None:
            tracked = tracked_files(root, raw[0])
            idx.store_listing(conn, key, tracked)
        dirty = (raw[1] + b"\0" + raw[2]).decode("utf-8", "surrogateescape").split("\0")
        basis = (key, tuple(sorted(filter(None, dirty))))
    listing = list_files(root, raw, tracked)
    blobs = idx.current_blobs(conn, listing)
    conn.commit()
    # git's listing calls a file modified when its stat changed (touched, rewritten with the same bytes);
    # only a content other than the git index's is a change to rank around
    known = tracked or {}
    changed = [p for p in listing.others if p in blobs and blobs[p] != known.get(p)]
    return Snapshot(conn, blobs, changed, basis)


def _update(snap: Snapshot, root: Path, config: ContextConfig, progress: bool, terms: bool = True) -> None:
    """Parse the files whose content the index lacks (in parallel when there are many).

    `terms` also counts every file's terms for BM25; a task-free map leaves that for later (`termindex`).
    """
    from lingcode.context import refindex  # numpy: not imported on a cached map's path

    # only paths whose content differs from the kept reference index's can need parsing; with no kept
    # index every row is read now (ranking needs them all) and the rest are parsed
    base = refindex.stored(snap.conn)
    change = refindex.diff(base, snap.blobs, snap.basis) if base is not None else None
    candidates = snap.blobs if change is None else {p: snap.blobs[p] for p in change.changed}
    loaded = rows.prefetch(snap.conn, set(candidates.values()))
    known: set[str] = set()
    missing: dict[str, str] = {}
    collected = False
    for path, blob in candidates.items():
        if blob not in loaded and blob not in known:
            known.add(blob)  # one parse per content, however many paths share it
            missing[path] = blob
    if missing:
        draw = idx.tty_progress("indexing") if progress else None
        parsed = idx.parse_missing(root, sorted(missing.items()), config.max_file_bytes, draw, terms)
        idx.store(snap.conn, parsed)

        # the kept reference index's records read their rows later: keep those alive, and once rows are
        # dropped store the current one, so no stored copy names a content whose row is gone
        def live() -> set[str]:
            return set(snap.blobs.values()).union(base.mapping().values() if base is not None else ())

        collected = idx.collect_garbage(snap.conn, live, len(snap.blobs))
    snap.conn.commit()
    snap._records = refindex.records_for(snap.conn, base, snap.blobs, snap.basis, change, collected)
    if terms:
        _fill_terms(snap, root, config, progress)


def _fill_terms(snap: Snapshot, root: Path, config: ContextConfig, progress: bool) -> None:
    """Count the terms a task-free map left uncounted, and keep the records' new lengths."""
    from lingcode.context import refindex, termindex

    records = snap.records
    draw = idx.tty_progress("counting terms") if progress else None
    filled = termindex.fill_terms(snap.conn, root, records, config.max_file_bytes, draw)
    if filled:
        rows.set_lengths(snap.conn, filled)
        if isinstance(records, refindex.Records):
            refindex.save(snap.conn, records)  # a kept copy with uncounted lengths would be filled again


def snapshot(
    root: Path, config: ContextConfig | None = None, progress: bool = True, terms: bool = True
) -> Snapshot:
    """List the repository's files, parse those the index lacks, and give access to every record.

    `terms=False` leaves files' BM25 term counts uncounted (for callers that do not rank by words).
    """
    root = root.resolve()
    snap = _open(root)
    try:
        _update(snap, root, config or ContextConfig(), progress, terms)
    except BaseException:
        snap.conn.close()
        raise
    return snap


def build_context(
    task: str,
    root: Path,
    budget: int,
    named_files: Sequence[str] = (),
    *,
    config: ContextConfig | None = None,
    count_tokens: Callable[[str], int | None] | None = None,
    progress: bool = False,
) -> Context:
    """Rank the repository's files for `task` and render the best context that fits `budget` tokens.

    `progress` draws a bar on stderr while a cold index is built, when stderr is a terminal.
    """
    config = config or ContextConfig()
    records, ranked = rank_context(task, root, named_files, config, progress)
    return render_context(records, ranked, root, budget, config, count_tokens, task)


def rank_context(
    task: str,
    root: Path,
    named_files: Sequence[str] = (),
    config: ContextConfig | None = None,
    progress: bool = False,
) -> tuple[list[FileRecord], list[Ranked]]:
    """Bring the index up to date and rank every candidate file for the task."""
    from lingcode.context.git import changed_files
    from lingcode.context.rank import rank_files

    config = config or ContextConfig()
    root = root.resolve()
    snap = snapshot(root, config, progress=progress)
    try:
        changed = changed_files(root)
        ranked = rank_files(snap.conn, snap.records, task, named_files, changed, root)
        if config.embed and task:
            from lingcode.context.embed import rerank

            ranked = rerank(snap.conn, root, snap.records, ranked, task)
        return snap.records, ranked
    finally:
        snap.conn.close()


def render_context(
    records: list[FileRecord],
    ranked: list[Ranked],
    root: Path,
    budget: int,
    config: ContextConfig | None = None,
    count_tokens: Callable[[str], int | None] | None = None,
    task: str = "",
) -> Context:
    """Render ranked files within the budget and mark which went in (whole, or excerpted for the task)."""
    from lingcode.context.render import reader, render

    config = config or ContextConfig()
    count, exact = counter(count_tokens)
    read = reader(root.resolve(), config.redact_secrets, config.max_file_bytes)
    out = render(records, [r.index for r in ranked], budget, count, exact, read, task=task)
    files = [
        RankedFile(records[r.index].path, round(r.score, 6), records[r.index].path in out.full, r.reason)
        for r in ranked
    ]
    return Context(files, out.text, out.tokens, budget, sorted(out.excerpted), out.shown)


def repo_map(root: Path, budget: int, config: ContextConfig | None = None, progress: bool = False) -> str:
    """The ranked repository map with no task (PageRank personalised by the work tree's changes).

    An unchanged repository answers from the index's cache of rendered maps without ranking again.
    """
    config = config or ContextConfig()
    root = root.resolve()
    # the estimate's ratio is in the key: a map cached under another calibration must not be served
    params = f"{idx.SCHEMA_VERSION}\0{budget}\0{config.redact_secrets}\0{config.max_file_bytes}\0"
    params += f"{BYTES_PER_TOKEN}\0"
    raw = git_listing(root)
    quick = None
    if raw is not None:
        # git's own listing names the work tree: no parsing, and stat calls only for changed files
        quick = _quick_key(root, raw, params)
        cached = _cached_map(root, quick)
        if cached is not None:
            return cached
    snap = _open(root, raw)
    try:
        key = _state_key(snap, params)
        row = snap.conn.execute("SELECT text FROM rendered WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return str(row[0])
        from lingcode.context.scanmap import scanned_map, wants_scan

        if wants_scan(snap.conn, len(snap.blobs)):  # no full index yet: rank from a scan (see scan.py)
            text = scanned_map(
                snap.conn, root, snap.blobs, snap.basis, snap.changed, budget, config, progress
            )
        else:
            _update(snap, root, config, progress, terms=False)  # a task-free map does not rank by words
            text = _render_map(snap, root, budget, config)
        with snap.conn:
            snap.conn.execute("DELETE FROM rendered")  # only the latest state is worth keeping
            for name in {key, quick} - {None}:
                snap.conn.execute("INSERT INTO rendered VALUES (?, ?, ?)", (name, text, 0))
        return text
    finally:
        snap.conn.close()


def _quick_key(root: Path, raw: GitListing, params: str) -> str:
    digest = hashlib.sha1(params.encode() + ignore_rules(root) + b"\0")
    for part in raw:
        digest.update(part + b"\1")
    for name in (raw[1] + raw[2]).split(b"\0"):
        if name:
            try:
                st = os.lstat(root / os.fsdecode(name))
                digest.update(b"%d:%d;" % (st.st_size, st.st_mtime_ns))
            except OSError:
                digest.update(b"gone;")
    return digest.hexdigest()


def _cached_map(root: Path, key: str) -> str | None:
    conn = idx.connect(root)
    try:
        row = conn.execute("SELECT text FROM rendered WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


def _state_key(snap: Snapshot, params: str) -> str:
    """Names everything a task-free map depends on: every path's content, the diff, the parameters."""
    if snap.basis is not None:
        # the tracked listing's key fixes the content of every path git does not report dirty
        parts = [snap.basis[0], *(f"{path}\0{snap.blobs.get(path, '')}" for path in snap.basis[1])]
    else:
        parts = [f"{path}\0{blob}" for path, blob in sorted(snap.blobs.items())]
    state = "\0".join(parts) + "\0" + params + "\0".join(snap.changed)
    return hashlib.sha1(state.encode("utf-8", "surrogateescape")).hexdigest()


def _render_map(snap: Snapshot, root: Path, budget: int, config: ContextConfig) -> str:
    from lingcode.context.rank import rank_files
    from lingcode.context.render import reader, render

    ranked = rank_files(snap.conn, snap.records, "", (), snap.changed)
    # one query for the definitions the map can show (an entry costs more than 16 tokens), not one each
    rows.load_definitions(snap.conn, [snap.records[r.index] for r in ranked[: budget // 16]])
    count, exact = counter(None)
    read = reader(root, config.redact_secrets, config.max_file_bytes)
    return render(snap.records, [r.index for r in ranked], budget, count, exact, read, full_limit=0).text
