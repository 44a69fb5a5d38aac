"""The records of one snapshot and the names each file defines and uses, as integer arrays, kept between runs.

Building these from every file's stored row (decode 50,000 rows, split their names, one dict of every name)
was most of an incremental `lingcode map` on large trees. So the latest build is stored in the index
(table `refindex`) and later runs patch it: files whose content changed lose their old definitions and
uses and get the new ones; every other file's record and arrays are carried over. A snapshot's reference
index depends only on its path -> blob map, so patching any earlier one gives what a fresh build gives;
name ids may differ (a patch appends new names), which is why the graph sums weights in a way that does
not depend on name order (see `graph.reference_graph`).

The process also remembers the latest one per index file: an agent asks for records many times a run.
"""

from __future__ import annotations

import marshal
import sqlite3
import zlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress, repeat
from operator import attrgetter
from typing import Any

import numpy as np

from lingcode.context import index as idx
from lingcode.context.index import FileRecord
from lingcode.context.rows import Row, fetch_rows, load_records, memory_key

_FORMAT = 4
_SAVE_AFTER = 100  # files patched since the stored copy: past this, store the patched one instead
_INSERT_MAX = 64  # patched-in records up to this many are inserted one by one, more are merged by a sort
_REBUILD_SHARE = 0.5  # past this share of files changed, a fresh build is as cheap and drops dead names

Basis = tuple[str, tuple[str, ...]]
"""What a snapshot's path -> blob map was derived from: the kept tracked listing's key (`files.tracked_key`)
and the paths git reported modified or untracked. Two snapshots with the same key can differ only there."""


@dataclass
class RefIndex:
    """Records in path order, every name they define or use (ids are positions), and who defines/uses what."""

    records: list[FileRecord]
    vocab_text: str
    """Every name, each followed by a newline: one string loads far faster than 200,000 small ones."""
    name_len: np.ndarray
    """Length of each vocabulary name."""
    name_hash: np.ndarray
    """A stable hash (crc32) of each vocabulary name: a patch finds names by it instead of a dict of all."""
    def_file: np.ndarray
    """With `def_name`: one (file, name id) pair per name a file defines, each pair once."""
    def_name: np.ndarray
    use_file: np.ndarray
    """With `use_name` and `use_times`: how many times each file uses each name."""
    use_name: np.ndarray
    use_times: np.ndarray
    basis: Basis | None = None
    skipped: tuple[str, ...] = ()
    """Listed paths without a stored row (vanished or unreadable when indexed): looked at again next time."""
    unsaved: int = 0
    """Files changed since the copy stored in the index (0: this is the stored copy)."""
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    """Values derived from this index (its name table), computed once."""

    @property
    def vocab(self) -> list[str]:
        """Every name, by id (split on first use: ranking for a task needs it, a map does not)."""
        found: list[str] | None = self.cache.get("vocab")
        if found is None:
            found = self.cache["vocab"] = self.vocab_text.split("\n")[:-1]
        return found

    def name(self, name_id: int) -> str:
        """One vocabulary name, cut from `vocab_text` (no split of the whole)."""
        starts: np.ndarray | None = self.cache.get("starts")
        if starts is None:
            starts = self.cache["starts"] = np.concatenate(([0], np.cumsum(self.name_len + 1)))
        start = int(starts[name_id])
        return self.vocab_text[start : start + int(self.name_len[name_id])]

    def paths(self) -> list[str]:
        """The records' paths (sorted)."""
        found: list[str] | None = self.cache.get("paths")
        if found is None:
            found = self.cache["paths"] = [rec.path for rec in self.records]
        return found

    def mapping(self) -> dict[str, str]:
        """Path -> blob id of the records."""
        found: dict[str, str] | None = self.cache.get("mapping")
        if found is None:
            found = self.cache["mapping"] = {rec.path: rec.blob for rec in self.records}
        return found

    def blob_of(self, path: str) -> str | None:
        """The blob id of `path`, None when it has no record (a binary search: no dict of all paths)."""
        paths = self.paths()
        at = bisect_left(paths, path)
        return self.records[at].blob if at < len(paths) and paths[at] == path else None


class Records(list[FileRecord]):
    """Records in path order that carry their reference index (so ranking need not rebuild it)."""

    refs: RefIndex | None = None


@dataclass
class Diff:
    """How a path -> blob map differs from a reference index's."""

    changed: list[str]
    """Paths that are new or whose content changed."""
    gone: list[str]


def _joined(texts: list[str]) -> tuple[list[str], list[int]]:
    """All newline-joined names of every file as one list, and how many each file has (one split in all)."""
    sizes = [text.count("\n") + 1 if text else 0 for text in texts]
    whole = "\n".join(filter(None, texts))
    return (whole.split("\n") if whole else []), sizes


def _unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and how often each occurs (sort based: numpy's hashing unique is slower here)."""
    ordered = np.sort(keys)
    if not len(ordered):
        return ordered, ordered
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def _hashes(names: list[str]) -> np.ndarray:
    return np.fromiter(
        (zlib.crc32(name.encode("utf-8", "surrogatepass")) for name in names), np.int64, len(names)
    )


def build(records: Sequence[FileRecord]) -> RefIndex:
    """A reference index from scratch (C-level loops: a Python loop per name costs seconds on big trees)."""
    n = len(records)
    defined, def_sizes = _joined([rec.names_text for rec in records])
    used, use_sizes = _joined([rec.refs_text for rec in records])
    vocab = list(dict.fromkeys(defined + used))
    ids = dict(zip(vocab, range(len(vocab)), strict=True))
    width = max(len(vocab), 1)
    files = np.arange(n, dtype=np.int64)
    def_keys, _ = _unique(
        np.repeat(files, def_sizes) * width
        + np.fromiter(map(ids.__getitem__, defined), np.int64, len(defined))
    )
    use_keys, times = _unique(
        np.repeat(files, use_sizes) * width + np.fromiter(map(ids.__getitem__, used), np.int64, len(used))
    )
    return RefIndex(
        list(records),
        "".join(name + "\n" for name in vocab),
        np.fromiter(map(len, vocab), np.int64, len(vocab)),
        _hashes(vocab),
        def_keys // width,
        def_keys % width,
        use_keys // width,
        use_keys % width,
        times,
    )


def diff(base: RefIndex, blobs: dict[str, str], basis: Basis | None) -> Diff:
    """Which paths of `blobs` differ from `base`: only the dirty ones when both share a tracked listing."""
    if basis is not None and base.basis is not None and basis[0] == base.basis[0]:
        changed: list[str] = []
        gone: list[str] = []
        for path in sorted({*base.basis[1], *basis[1], *base.skipped}):
            old, new = base.blob_of(path), blobs.get(path)
            if new is None and old is not None:
                gone.append(path)
            elif new is not None and new != old:
                changed.append(path)
        return Diff(changed, gone)
    known = base.mapping()
    changed = [path for path, blob in blobs.items() if known.get(path) != blob]
    fresh = sum(1 for path in changed if path not in known)
    return Diff(changed, [p for p in known if p not in blobs] if len(blobs) - fresh != len(known) else [])


def _name_ids(base: RefIndex, names: Iterable[str]) -> dict[str, int]:
    """Ids of those of `names` in the vocabulary, found by hash (a dict of all names would cost more)."""
    wanted = list(dict.fromkeys(names))
    if not wanted or not len(base.name_hash):
        return {}
    keys = np.sort(_hashes(wanted))  # duplicates are harmless to searchsorted
    at = np.minimum(np.searchsorted(keys, base.name_hash), len(keys) - 1)
    hits = np.flatnonzero(keys[at] == base.name_hash).tolist()
    found = dict(zip(map(base.name, hits), hits, strict=True))
    return {name: found[name] for name in wanted if name in found}  # a hash collision is no match


def _merged(base: RefIndex, keep: list[bool], fresh: list[FileRecord]) -> tuple[list[FileRecord], list[str]]:
    """The kept records of `base` and the fresh ones, in path order, and their paths."""
    records, paths = list(compress(base.records, keep)), list(compress(base.paths(), keep))
    if len(fresh) <= _INSERT_MAX:  # a few insertions (memory moves) beat re-sorting every record
        for rec in fresh:
            where = bisect_left(paths, rec.path)
            paths.insert(where, rec.path)
            records.insert(where, rec)
        return records, paths
    records.extend(fresh)
    records.sort(key=attrgetter("path"))  # a merge: both parts are already in path order
    return records, list(map(attrgetter("path"), records))


def _patch(base: RefIndex, blobs: dict[str, str], change: Diff, rows: dict[str, Row]) -> RefIndex:
    """`base` brought to the path -> blob map `blobs` that differs from it by `change`; `rows` holds the
    stored row of each changed path's blob (a missing one: the file vanished before it was parsed).
    """
    paths = base.paths()
    kept = np.ones(len(base.records), dtype=bool)
    dropped = [*change.gone, *(p for p in change.changed if base.blob_of(p) is not None)]
    kept[[bisect_left(paths, p) for p in dropped]] = False
    fresh = [FileRecord(p, blobs[p], *rows[blobs[p]]) for p in change.changed if blobs[p] in rows]
    records, new_paths = _merged(base, kept.tolist(), fresh)
    at = [bisect_left(new_paths, rec.path) for rec in fresh]
    carried = np.ones(len(records), dtype=bool)
    carried[at] = False
    renumber = np.full(len(base.records), -1, dtype=np.int64)
    renumber[kept] = np.flatnonzero(carried)
    keep_defs = renumber[base.def_file] >= 0
    keep_uses = renumber[base.use_file] >= 0
    ids = _name_ids(base, (name for rec in fresh for name in (*rec.def_names, *rec.references)))
    added: list[str] = []

    def name_id(name: str) -> int:
        found = ids.get(name)
        if found is None:
            found = ids[name] = len(base.name_len) + len(added)
            added.append(name)
        return found

    def_file, def_name, use_file, use_name, use_times = [], [], [], [], []
    for position, rec in zip(at, fresh, strict=True):
        for name in dict.fromkeys(rec.def_names):
            def_file.append(position)
            def_name.append(name_id(name))
        for name, times in Counter(rec.references).items():
            use_file.append(position)
            use_name.append(name_id(name))
            use_times.append(times)
    return RefIndex(
        records,
        base.vocab_text + "".join(name + "\n" for name in added),
        np.concatenate((base.name_len, np.fromiter(map(len, added), np.int64, len(added)))),
        np.concatenate((base.name_hash, _hashes(added))),
        np.concatenate((renumber[base.def_file[keep_defs]], np.array(def_file, np.int64))),
        np.concatenate((base.def_name[keep_defs], np.array(def_name, np.int64))),
        np.concatenate((renumber[base.use_file[keep_uses]], np.array(use_file, np.int64))),
        np.concatenate((base.use_name[keep_uses], np.array(use_name, np.int64))),
        np.concatenate((base.use_times[keep_uses], np.array(use_times, np.int64))),
        skipped=tuple(p for p in change.changed if blobs[p] not in rows),
        unsaved=base.unsaved + len(change.changed) + len(change.gone),
        cache={"paths": new_paths},
    )


_MEMORY: dict[tuple[str, str], RefIndex] = {}
LATEST = "latest"
"""The kept reference index of parsed records; `scan.KEPT` names the cold map's, of scanned ones."""


@dataclass(frozen=True)
class RowSource:
    """Where records' rows come from: the parsed rows by default; the cold map's scans (`scan.py`)."""

    rows: Callable[[sqlite3.Connection, set[str]], dict[str, Row]] = fetch_rows
    records: Callable[[sqlite3.Connection, dict[str, str]], list[FileRecord]] = load_records


def stored(conn: sqlite3.Connection, kept: str = LATEST) -> RefIndex | None:
    """The latest reference index this process built for this index file, else the one stored in it."""
    key = memory_key(conn)
    if key is None:
        return None  # an in-memory index lives as long as this connection: nothing was kept
    if (key, kept) in _MEMORY:
        return _MEMORY[key, kept]
    row = conn.execute("SELECT data FROM refindex WHERE key = ?", (kept,)).fetchone()
    return None if row is None else decode(row[0], key.partition("\0")[0])


def records_for(
    conn: sqlite3.Connection,
    base: RefIndex | None,
    blobs: dict[str, str],
    basis: Basis | None = None,
    change: Diff | None = None,
    store: bool = False,
    kept: str = LATEST,
    source: RowSource = RowSource(),
) -> Records:
    """Records (with their reference index) for this path -> blob map: `base` patched, or built afresh.

    `change` is `diff(base, blobs, basis)` when the caller has it already; `store` stores the result
    even when it is a small patch (rows of older contents were just dropped). `kept` names the stored
    copy and `source` where rows come from (the cold map keeps one of scanned records beside it).
    """
    if base is not None:
        change = change or diff(base, blobs, basis)
    if base is None or change is None or len(change.changed) > _REBUILD_SHARE * max(len(blobs), 1):
        ref = build(source.records(conn, blobs))
        listed = set(ref.paths())
        ref.skipped = tuple(p for p in blobs if p not in listed)
        ref.basis, save = basis, True
    elif change.changed or change.gone:
        ref = _patch(base, blobs, change, source.rows(conn, {blobs[p] for p in change.changed}))
        ref.basis, save = basis, ref.unsaved > _SAVE_AFTER
    elif base.basis != basis:
        # the same content reached from another listing (derived values name their index: not shared)
        ref, save = replace(base, basis=basis, cache={"paths": base.paths()}), False
    else:
        ref, save = base, False
    if save or store:
        _save(conn, ref, kept)
    key = memory_key(conn)
    if key is not None:
        # one of each is enough: the latest state of the one repository a process works in
        for other in [k for k in _MEMORY if k[1] == kept]:
            del _MEMORY[other]
        _MEMORY[key, kept] = ref
    records = Records(ref.records)
    records.refs = ref
    return records


def _save(conn: sqlite3.Connection, ref: RefIndex, kept: str = LATEST) -> None:
    with conn:
        conn.execute("INSERT OR REPLACE INTO refindex VALUES (?, ?)", (kept, encode(ref)))
    ref.unsaved = 0


def save(conn: sqlite3.Connection, records: Records) -> None:
    """Store the reference index of these records again (after their lengths were filled in)."""
    if records.refs is not None:
        _save(conn, records.refs)


_COLUMNS = 7  # FileRecord's fields from path to length: definitions are read from the index when needed


def encode(ref: RefIndex) -> bytes:
    """The reference index as bytes to store (records as columns, arrays as int32 bytes)."""
    rows = [(r.path, r.blob, r.status, r.language, r.names_text, r.refs_text, r.length) for r in ref.records]
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * _COLUMNS
    arrays = (ref.def_file, ref.def_name, ref.use_file, ref.use_name, ref.use_times, ref.name_len)
    # int32 halves what each run reads back; no id, count or length gets near 2**31 (crc32 needs uint32)
    packed = [a.astype(np.int32).tobytes() for a in arrays] + [ref.name_hash.astype(np.uint32).tobytes()]
    basis = None if ref.basis is None else (ref.basis[0], list(ref.basis[1]))
    return marshal.dumps((_FORMAT, columns, ref.vocab_text, packed, basis, list(ref.skipped)))


def decode(data: bytes, path: str) -> RefIndex | None:
    """A stored reference index (kept in the index file at `path`); None if unreadable or of other format."""
    try:
        version, columns, vocab_text, packed, basis, skipped = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if version != _FORMAT or len(columns) != _COLUMNS or len(packed) != 7:
        return None
    def_file, def_name, use_file, use_name, use_times, name_len = (
        np.frombuffer(a, np.int32).astype(np.int64) for a in packed[:6]
    )
    records = list(map(FileRecord, *columns, repeat(idx.StoredDefinitions(path))))
    ref = RefIndex(
        records,
        vocab_text,
        name_len,
        np.frombuffer(packed[6], np.uint32).astype(np.int64),
        def_file,
        def_name,
        use_file,
        use_name,
        use_times,
        basis=None if basis is None else (basis[0], tuple(basis[1])),
        skipped=tuple(skipped),
    )
    ref.cache["paths"] = columns[0]
    return ref
