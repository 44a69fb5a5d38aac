"""A first map of a large repository without parsing every file: names found by regular expressions.

Why: on a cold index, tree-sitter's parse and tag query are ~85% of a map's CPU (RESULTS.md, issue 12
part 3), yet a map shows the signatures of only its top few files. Ranking needs only each file's
definition names and the names it uses; patterns over the bytes find an approximation of both in a
fraction of the time. So a task-free map of a repository the index has not parsed yet ranks from a scan
(the same PageRank over the same graph code, with approximate input), and tree-sitter parses only the
files the map shows, in rank order, until the budget is full. Those rows are kept in the index as usual.

Every language lingcode has a grammar for has patterns here; a language added later without them is
tagged by tree-sitter during the scan, as before.
A scan is kept per content (table `scans`), so after one edited file a map scans one file. The full index
(tags of every file, then term counts) is built when a ranking for a task first needs it: `lingcode
context`, `run`, the agent; maps after that rank from it.
"""

from __future__ import annotations

import marshal
import os
import re
import sqlite3
from collections.abc import Callable, Iterable

from lingcode.context.files import classify
from lingcode.context.index import NO_TERMS, FileRecord, Parsed, parse_file
from lingcode.context.pool import CHUNK, Job, in_pool
from lingcode.context.refindex import RowSource
from lingcode.context.rows import Row, memory_key

ScanRow = tuple[str, str | None, str, str]
"""(status, language, definition names, references), names newline-joined, as `FileRecord` keeps them."""
Scanned = tuple[str, ScanRow, Parsed | None]
"""(blob, its scan, the tree-sitter row when the file was tagged by a parse instead)."""

_SCHEMA = "CREATE TABLE IF NOT EXISTS scans (blob TEXT PRIMARY KEY, data BLOB)"
_LOOKUP_MAX = 900  # blob ids per keyed query (SQLite's default limit on parameters is 999)
KEPT = "scan"
"""The name of the scanned records' reference index among the kept ones (`refindex.stored`)."""
# a content scans the same way for the life of the process: what it scanned into an index file (and
# generation, `rows.memory_key`) needs no reading back from it
_SEEN: dict[str | None, dict[str, ScanRow]] = {}


def _seen(conn: sqlite3.Connection) -> dict[str, ScanRow]:
    key = memory_key(conn)
    return {} if key is None else _SEEN.setdefault(key, {})

# Uses of a name: after `.` `@` `:` `->` (attributes, decorators, annotations, paths) and before `(`.
# Character classes and a leading \b keep the engine from retrying inside every word: a combined
# alternation with look-behinds cost 3x more on SymPy's 26 MB.
_AFTER = re.compile(rb"[.@:>] ?([A-Za-z_]\w*)")
_CALLED = re.compile(rb"\b(?<!def )(?<!class )([A-Za-z_]\w*)\(")
_WORD = re.compile(rb"[A-Za-z_]\w*")
# Definitions start a line (the text is scanned with a newline in front), so prose in docstrings
# ("the class of ...") rarely defines anything.
_DEFINES: dict[str, re.Pattern[bytes]] = {
    "python": re.compile(
        rb"\n[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)"
        # module constants, as the tag query keeps them: `X = ...`, `X: T = ...` and a stub's `X: T`
        rb"|\n([A-Za-z_]\w*)[ \t]*(?:=(?!=)|:[^=\n]*(?:=(?!=)|(?=\n)))"
    ),
    "javascript": re.compile(
        rb"\n[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?"
        rb"(?:function\*?|class|const|let|var)[ \t]+([A-Za-z_$][\w$]*)"
        # methods: an indented name, its parameters on the line, then the body's brace
        rb"|\n[ \t]+(?:static[ \t]+|async[ \t]+|get[ \t]+|set[ \t]+)*"
        rb"([A-Za-z_$][\w$]*)[ \t]*\([^)\n]*\)[ \t]*\{"
    ),
    "go": re.compile(rb"\n(?:func[ \t]+(?:\([^)]*\)[ \t]*)?|type[ \t]+)([A-Za-z_]\w*)"),
    "rust": re.compile(
        rb"\n[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?(?:async[ \t]+)?(?:unsafe[ \t]+)?"
        rb"(?:fn|struct|enum|trait|type|mod|const|static|union)[ \t]+([A-Za-z_]\w*)"
    ),
    "ruby": re.compile(rb"\n[ \t]*(?:def[ \t]+(?:self\.)?|class[ \t]+|module[ \t]+)([A-Za-z_]\w*[?!=]?)"),
}
# C family: macros, tagged types, typedef names, and a name before `(` on a line that starts at column 0
# with a type (function definitions and prototypes; statements are indented)
_C_FAMILY = (
    rb"\n[ \t]*(?:#[ \t]*define|namespace)[ \t]+([A-Za-z_]\w*)"
    rb"|\n[ \t]*(?:typedef[ \t]+)?(?:struct|union|enum|class)[ \t]+([A-Za-z_]\w*)[ \t]*[:{\n]"
    rb"|\n\}[ \t]*([A-Za-z_]\w*)[ \t]*;"
    rb"|\n(?![ \t#/])(?:[\w*&:<>, \t]*[ \t*&])?([A-Za-z_~][\w~]*)[ \t]*\("
)
_DEFINES["c"] = _DEFINES["cpp"] = re.compile(_C_FAMILY)
# Java and C#: type declarations, and members declared with a modifier (methods, constructors, fields)
_DEFINES["java"] = _DEFINES["c_sharp"] = re.compile(
    rb"\b(?:class|interface|enum|record|struct)[ \t]+([A-Za-z_]\w*)"
    rb"|\n[ \t]+(?:@\w+[ \t]+)*(?:(?:public|private|protected|internal|static|final|abstract|override|virtual"
    rb"|sealed|async|synchronized|readonly|const)[ \t]+)+[\w<>\[\],.? \t]*?([A-Za-z_]\w*)[ \t]*[(=;]"
)
_DEFINES["typescript"] = _DEFINES["tsx"] = _DEFINES["javascript"]
_BLOCK_KEYWORDS = frozenset({b"else", b"try", b"finally"})  # `else:` at column 0 looks like `X: T`
# Python's imported names are uses too (`from x import (a, b)`), as the tag query counts them
_IMPORTS = re.compile(rb"\n[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)")


def scan_names(language: str, data: bytes) -> tuple[str, str]:
    """A file's definition names (file order) and the names it uses (with repeats), newline-joined."""
    text = b"\n" + data
    # a pattern with alternatives yields one group per alternative, the others empty
    defines = [m if isinstance(m, bytes) else b"".join(m) for m in _DEFINES[language].findall(text)]
    uses = _AFTER.findall(text) + _CALLED.findall(text)
    if language == "python":
        defines = [d for d in defines if d not in _BLOCK_KEYWORDS]
        for names in _IMPORTS.findall(text):
            uses.extend(w for w in _WORD.findall(names) if w != b"as")
    # one decode of the joined names, not one per name: a third of the scan's Python time
    return b"\n".join(defines).decode("utf-8", "replace"), b"\n".join(uses).decode("utf-8", "replace")


def scan_file(root: str, path: str, blob: str, max_bytes: int) -> Scanned | None:
    """One file's scan; files of languages without patterns are parsed instead. None when unreadable."""
    from lingcode.context.tags import language_of

    lang = language_of(path)
    if lang is not None and lang not in _DEFINES:
        parsed = parse_file(root, path, blob, max_bytes, terms=False)
        if parsed is None:
            return None
        plang, names, refs, _defs = marshal.loads(parsed[4])
        return blob, (parsed[2], plang, names, refs), parsed
    try:
        with open(os.path.join(root, path), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None
    status = classify(path, data, max_bytes)
    if status or lang is None:
        return blob, (status, lang, "", ""), None
    return blob, (status, lang, *scan_names(lang, data)), None


def _scan_chunk(job: Job) -> list[Scanned]:
    root, items, max_bytes, _terms = job
    return [s for path, blob in items if (s := scan_file(root, path, blob, max_bytes)) is not None]


def stored_scans(conn: sqlite3.Connection, blobs: set[str]) -> dict[str, ScanRow]:
    """The kept scans of these blob ids (those the index has; what this process scanned is remembered)."""
    conn.execute(_SCHEMA)
    seen = _seen(conn)
    out = {b: seen[b] for b in blobs if b in seen}
    wanted = sorted(blobs - out.keys())
    for at in range(0, len(wanted), _LOOKUP_MAX):
        part = wanted[at : at + _LOOKUP_MAX]
        sql = f"SELECT blob, data FROM scans WHERE blob IN ({','.join('?' * len(part))})"
        for blob, data in conn.execute(sql, part):
            out[blob] = marshal.loads(data)
    return out


def scan_missing(
    conn: sqlite3.Connection,
    root: str,
    missing: list[tuple[str, str]],
    max_bytes: int,
    progress: Callable[[int, int], None] | None,
) -> dict[str, ScanRow]:
    """Scan files the index has no scan of (in a pool when many), keep the scans; blob -> scan."""
    from lingcode.context.index import store

    jobs: list[Job] = [
        (root, missing[at : at + CHUNK], max_bytes, False) for at in range(0, len(missing), CHUNK)
    ]
    out: dict[str, ScanRow] = {}
    seen = _seen(conn)
    parsed: list[Parsed] = []
    for blob, row, tagged in in_pool(_scan_chunk, jobs, progress):
        out[blob] = seen[blob] = row
        if tagged is not None:
            parsed.append(tagged)
    with conn:
        conn.executemany(
            "INSERT OR REPLACE INTO scans VALUES (?, ?)", ((b, marshal.dumps(r)) for b, r in out.items())
        )
    if parsed:
        store(conn, parsed)  # a file tagged by tree-sitter is in the index for good
    return out


def forget_stale(conn: sqlite3.Connection, live: Iterable[str], listed: int) -> None:
    """Drop the scans of contents no longer listed once they outnumber the listed files."""
    (count,) = conn.execute("SELECT COUNT(*) FROM scans").fetchone()
    if count <= 2 * listed + 100:
        return
    keep = set(live)
    with conn:
        stale = [(b,) for (b,) in conn.execute("SELECT blob FROM scans") if b not in keep]
        conn.executemany("DELETE FROM scans WHERE blob = ?", stale)


def scan_records(blobs: dict[str, str], scans: dict[str, ScanRow]) -> list[FileRecord]:
    """One record per scanned path, in path order, ranked like parsed records (no definitions yet)."""
    out = []
    for path in sorted(blobs):
        row = scans.get(blobs[path])
        if row is not None:
            status, lang, names, refs = row
            out.append(FileRecord(path, blobs[path], status, lang, names, refs, NO_TERMS))
    return out


def _rows(conn: sqlite3.Connection, blobs: set[str]) -> dict[str, Row]:
    return {
        b: (st, lang, names, refs, NO_TERMS, b"")
        for b, (st, lang, names, refs) in stored_scans(conn, blobs).items()
    }


def _records(conn: sqlite3.Connection, blobs: dict[str, str]) -> list[FileRecord]:
    return scan_records(blobs, stored_scans(conn, set(blobs.values())))


SOURCE = RowSource(_rows, _records)
"""Scanned records as a reference index's rows (so the cold map's is kept and patched like the parsed one)."""
