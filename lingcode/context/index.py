"""The on-disk index: per-file tags and term counts in SQLite, keyed by content, built in parallel.

Where it lives (see `index_path`): inside a git repository, `<git common dir>/lingcode/index.sqlite`
(so every worktree of a clone shares it and `git clean` never touches it); outside one,
`$XDG_CACHE_HOME/lingcode/index/<hash of the path>.sqlite`. Delete the file, or run
`lingcode map --clear-cache`, to rebuild from scratch.

Rows are keyed by the git blob id of the content: tracked files that git reports unmodified take the id
from the git index without being read; other files are hashed once and remembered by size and mtime.
An unchanged file is therefore never parsed twice, across branches and renames alike. The same file
also keeps the latest reference index (table `refindex`, see `refindex.py`) and rendered map.
A task-free map stores tags only: term counts for BM25 wait until a ranking needs them (`termindex.py`).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lingcode.config import cache_home
from lingcode.context.files import Listing, classify, git_dir
from lingcode.context.pool import CHUNK, Job, in_pool

SCHEMA_VERSION = "5"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS blobs (blob TEXT PRIMARY KEY, status TEXT, length INTEGER, data BLOB);
CREATE TABLE IF NOT EXISTS postings (term TEXT, blob TEXT, tf INTEGER);
CREATE INDEX IF NOT EXISTS postings_term ON postings (term);
CREATE INDEX IF NOT EXISTS postings_blob ON postings (blob);
CREATE TABLE IF NOT EXISTS stats (path BLOB PRIMARY KEY, size INTEGER, mtime_ns INTEGER, blob TEXT);
CREATE TABLE IF NOT EXISTS rendered (key TEXT PRIMARY KEY, text TEXT, tokens INTEGER);
CREATE TABLE IF NOT EXISTS listing (key TEXT PRIMARY KEY, data BLOB);
CREATE TABLE IF NOT EXISTS refindex (key TEXT PRIMARY KEY, data BLOB);
"""

Def = tuple[str, str, int, int, str]
"""(name, kind, line, end_line, signature) as stored."""


@dataclass
class FileRecord:
    """What the index knows about one candidate file."""

    path: str
    blob: str
    status: str
    """"" when indexed; otherwise why its content is left out (binary, large, generated, ...)."""
    language: str | None
    names_text: str
    """The file's definition names, newline-joined (split on first use: graph building reads them joined)."""
    refs_text: str
    """The names the file references, newline-joined."""
    length: int
    """Number of terms in the file (BM25 document length)."""
    packed_definitions: bytes | StoredDefinitions = b""
    """Marshalled definitions, or where to read them on first use (records kept between runs)."""
    _definitions: list[Def] | None = field(default=None, repr=False)
    _names: list[str] | None = field(default=None, repr=False)
    _refs: list[str] | None = field(default=None, repr=False)

    @property
    def def_names(self) -> list[str]:
        """Names of the file's definitions, in file order (what ranking needs; cheap to load)."""
        if self._names is None:
            self._names = self.names_text.split("\n") if self.names_text else []
        return self._names

    @property
    def references(self) -> list[str]:
        """Names the file uses, with repeats."""
        if self._refs is None:
            self._refs = self.refs_text.split("\n") if self.refs_text else []
        return self._refs

    @property
    def definitions(self) -> list[Def]:
        """Full definitions with kinds, lines and signatures, unpacked on first use (rendering needs few)."""
        if self._definitions is None:
            if isinstance(self.packed_definitions, StoredDefinitions):
                self.packed_definitions = self.packed_definitions.read(self.blob)
            packed = self.packed_definitions
            self._definitions = [tuple(d) for d in marshal.loads(packed)] if packed else []
        return self._definitions


class StoredDefinitions:
    """Reads a blob's packed definitions from an index file when a record kept without them needs them.

    Records carried between runs leave definitions out (most are never rendered); each read opens the
    file briefly, so no connection outlives its use.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def read(self, blob: str) -> bytes:
        """The blob's packed definitions (empty when the index no longer has its row)."""
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10.0)
            try:
                row = conn.execute("SELECT data FROM blobs WHERE blob = ?", (blob,)).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return b""
        return bytes(marshal.loads(row[0])[3]) if row is not None else b""


def index_path(root: Path) -> Path:
    """Where the SQLite index of the repository at root lives (see the module docstring)."""
    gdir = git_dir(root.resolve())
    if gdir is not None:
        return gdir / "lingcode" / "index.sqlite"
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_home() / "index" / f"{digest}.sqlite"


def clear_index(root: Path) -> bool:
    """Delete the repository's index; True when there was one."""
    path = index_path(root)
    found = False
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()
            found = True
    return found


def connect(root: Path) -> sqlite3.Connection:
    """Open (creating if needed) the index; an unwritable location falls back to an in-memory one."""
    path = index_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    except (OSError, sqlite3.Error):
        conn = sqlite3.connect(":memory:")
        conn.executescript(_SCHEMA)
        row = None
    if row is None or row[0] != SCHEMA_VERSION:
        # an older layout or older queries: start again rather than mix results
        conn.executescript(
            "DELETE FROM blobs; DELETE FROM postings; DELETE FROM stats; DELETE FROM rendered;"
            " DELETE FROM listing; DELETE FROM refindex;"
        )
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        conn.execute("DELETE FROM meta WHERE key = 'generation'")
        conn.commit()
    # names this index's life: a process's memory of decoded rows is only valid for the same one
    if conn.execute("SELECT 1 FROM meta WHERE key = 'generation'").fetchone() is None:
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('generation', ?)", (os.urandom(12).hex(),))
        conn.commit()
    return conn


def load_listing(conn: sqlite3.Connection, key: str) -> dict[str, str] | None:
    """The kept tracked files stored for this git index listing (see `files.tracked_key`), if any."""
    row = conn.execute("SELECT data FROM listing WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    try:
        data = marshal.loads(row[0])
    except (EOFError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def store_listing(conn: sqlite3.Connection, key: str, tracked: dict[str, str]) -> None:
    """Remember the kept tracked files of one git index listing (only the latest is kept)."""
    with conn:
        conn.execute("DELETE FROM listing")
        conn.execute("INSERT INTO listing VALUES (?, ?)", (key, marshal.dumps(tracked)))


def blob_id(data: bytes) -> str:
    """The git blob id of some content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _resolve_others(conn: sqlite3.Connection, root: Path, paths: list[str]) -> dict[str, str]:
    """Blob ids of modified/untracked files, hashing only those whose size or mtime changed."""
    # paths are stored as bytes: git reports names that are not UTF-8 and SQLite text must be
    known = {
        bytes(p).decode("utf-8", "surrogateescape"): (s, m, b)
        for p, s, m, b in conn.execute("SELECT path, size, mtime_ns, blob FROM stats")
    }
    out: dict[str, str] = {}
    fresh: list[tuple[bytes, int, int, str]] = []
    for rel in paths:
        try:
            st = os.lstat(root / rel)
            if not os.path.isfile(root / rel) or os.path.islink(root / rel):
                continue
            cached = known.get(rel)
            if cached and cached[0] == st.st_size and cached[1] == st.st_mtime_ns:
                out[rel] = cached[2]
                continue
            blob = blob_id((root / rel).read_bytes())
        except OSError:
            continue  # deleted or unreadable since git listed it
        out[rel] = blob
        fresh.append((rel.encode("utf-8", "surrogateescape"), st.st_size, st.st_mtime_ns, blob))
    if fresh:
        conn.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?)", fresh)
    return out


def current_blobs(conn: sqlite3.Connection, listing: Listing) -> dict[str, str]:
    """Path -> blob id for every candidate file that still exists."""
    blobs = dict(listing.blobs)
    blobs.update(_resolve_others(conn, listing.root, listing.others))
    return blobs


Parsed = tuple[str, str, str, int, bytes, dict[str, int]]
"""(path, blob, status, length, marshalled (language, defs, refs), term counts)."""

NO_TERMS = -1
"""The length of an indexed file whose terms are not counted yet (see `termindex`)."""


def parse_file(root: str, path: str, blob: str, max_bytes: int, terms: bool = True) -> Parsed | None:
    """Read and tag one file (runs in worker processes); None when it vanished or cannot be read.

    Without `terms` the file's term counts are left for later (length `NO_TERMS`): a task-free map
    does not rank by words, and counting them costs as much as the tags.
    """
    from lingcode.context.tags import extract, language_of
    from lingcode.context.terms import term_counts

    try:
        with open(os.path.join(root, path), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None
    lang = language_of(path)
    status = classify(path, data, max_bytes)
    defs: list[Def] = []
    refs: list[str] = []
    counts: dict[str, int] = {}
    length = 0
    if not status:
        if terms:
            counts = term_counts(data.decode("utf-8"))
            length = sum(counts.values())
        else:
            length = NO_TERMS
        if lang is not None:
            try:
                tags = extract(lang, data)
            except Exception:  # a grammar crash on odd input must not stop the index; keep the file by path
                tags = None
            if tags is not None:
                defs = [(d.name, d.kind, d.line, d.end_line, d.signature) for d in tags.definitions]
                refs = tags.references
    # names and references as joined strings: splitting them is far cheaper than unmarshalling lists
    payload = marshal.dumps((lang, "\n".join(d[0] for d in defs), "\n".join(refs), marshal.dumps(defs)))
    return path, blob, status, length, payload, counts


def _parse_chunk(job: Job) -> list[Parsed]:
    root, items, max_bytes, terms = job
    return [p for path, blob in items if (p := parse_file(root, path, blob, max_bytes, terms)) is not None]


def _chunks(items: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_missing(
    root: Path,
    missing: list[tuple[str, str]],
    max_bytes: int,
    progress: Callable[[int, int], None] | None,
    terms: bool = True,
) -> Iterable[Parsed]:
    """Parse files not yet in the index, in a process pool when there are many."""
    jobs = [(str(root), chunk, max_bytes, terms) for chunk in _chunks(missing, CHUNK)]
    return in_pool(_parse_chunk, jobs, progress)


def store(conn: sqlite3.Connection, parsed: Iterable[Parsed]) -> None:
    """Write parsed files to the index in one transaction."""
    with conn:
        for _path, blob, status, length, payload, counts in parsed:
            conn.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)", (blob, status, length, payload))
            conn.execute("DELETE FROM postings WHERE blob = ?", (blob,))
            conn.executemany(
                "INSERT INTO postings VALUES (?, ?, ?)", ((t, blob, n) for t, n in counts.items())
            )


def collect_garbage(conn: sqlite3.Connection, live: Callable[[], set[str]], listed: int) -> bool:
    """Drop rows of contents no live file has, once they are a good share of the index; True if it did.

    `listed` (how many files there are) decides whether to look at all: building the `live` set costs
    more than the whole of a small incremental update on large trees.
    """
    (total,) = conn.execute("SELECT count(*) FROM blobs").fetchone()
    if total - listed < max(2000, total // 3):
        return False  # there cannot be enough dead rows: skip listing them
    alive = live()
    stored = [b for (b,) in conn.execute("SELECT blob FROM blobs")]
    dead = [b for b in stored if b not in alive]
    if len(dead) < max(2000, len(stored) // 3):
        return False
    with conn:
        conn.executemany("DELETE FROM blobs WHERE blob = ?", ((b,) for b in dead))
        conn.executemany("DELETE FROM postings WHERE blob = ?", ((b,) for b in dead))
    return True


def tty_progress(label: str) -> Callable[[int, int], None] | None:
    """A progress callback drawing a bar on stderr, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def draw(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return draw
