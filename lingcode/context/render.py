"""Rendering ranked files into prompt text that fits a token budget exactly.

Layout: the full text of the top files that fit (in rank order, leaving room for the map), then a
repository map listing the other ranked files with their key definitions: signatures only, bodies
elided with `⋮`. Files lingcode has no grammar for appear by path. Pieces are added while their counted
tokens fit; with the model's own tokenizer the whole text is recounted and trimmed until it fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lingcode.context.excerpt import excerpt_of
from lingcode.context.index import Def, FileRecord
from lingcode.context.secrets import redact
from lingcode.context.tokens import TokenCounter, estimate_tokens
from lingcode.errors import UsageError

MAP_HEADER = "## Repository map (ranked; bodies elided with ⋮)\n"
FULL_HEADER = "## Files\n"
_MAX_DEFS = 30
_FULL_CANDIDATES = 8
_EXCERPT_CANDIDATES = 5
_MAP_SHARE = 0.2  # of the budget kept for the map once full files are in
_INDENT = {"method": "    ", "property": "    "}


@dataclass(frozen=True)
class Shown:
    """What of one file the model is shown: `whole`, an `excerpt`, its `map` entry, or only its `path`.

    `lines` are 1-based inclusive ranges of the file's text that are in (whole files and excerpts);
    `symbols` the definitions named (an excerpt's verbatim ones, a map entry's signatures).
    """

    kind: str
    lines: list[tuple[int, int]] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The JSON form `lingcode context --json` prints per file."""
        return {"shown": self.kind, "lines": [list(r) for r in self.lines], "symbols": self.symbols}


@dataclass
class Rendered:
    """The rendered text, its token count and which paths went in as full text."""

    text: str
    tokens: int
    full: set[str]
    """Paths whose text is in: whole, or as an excerpt (those are also in `excerpted`)."""
    mapped: set[str]
    excerpted: set[str] = field(default_factory=set)
    shown: dict[str, Shown] = field(default_factory=dict)
    """Per path in the text, what of it is shown."""


def shown(path: str) -> str:
    """A path as printable text: names that are not UTF-8 (kept by git as raw bytes) show U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def map_entry(record: FileRecord) -> str:
    """One file's map entry: its path, then its definitions' signatures with elisions between them."""
    if record.status or not record.def_names:
        note = f" ({record.status})" if record.status else ""
        return f"{shown(record.path)}{note}\n"
    lines = [f"{shown(record.path)}:"]
    for n, (_name, kind, _line, _end, signature) in enumerate(_map_defs(record)):
        if n and kind not in _INDENT:
            lines.append("  ⋮")
        lines.append(f"{_INDENT.get(kind, '  ')}{signature}")
    return redact("\n".join(lines) + "\n")


def _map_defs(record: FileRecord) -> list[Def]:
    """The definitions a map entry lists: all, or the outline (classes and top-level functions first)."""
    defs = list(record.definitions)
    if len(defs) > _MAX_DEFS:
        top = [d for d in defs if d[1] not in _INDENT]
        defs = sorted((top + [d for d in defs if d[1] in _INDENT])[:_MAX_DEFS], key=lambda d: d[2])
    return defs


def full_entry(path: str, text: str) -> str:
    """A file's full text, fenced, headed by its path."""
    fence = "````" if "```" in text else "```"
    return f"### {shown(path)}\n{fence}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}\n\n"


def render(
    records: Sequence[FileRecord],
    order: Sequence[int],
    budget: int,
    count: TokenCounter,
    exact: bool,
    read: Callable[[str], str],
    full_limit: int = _FULL_CANDIDATES,
    task: str = "",
) -> Rendered:
    """Fit full texts (or excerpts) of the top files and the map of the rest into `budget` tokens.

    With the model's tokenizer (`exact`), pieces are sized with the estimate and only the assembled
    text is counted exactly (one tokenizer call, a few more if trimming is needed).
    """
    final_count = count
    if exact:
        count = estimate_tokens
    room = budget - max(int(budget * _MAP_SHARE), count(MAP_HEADER) + count(FULL_HEADER))
    full, seen = _fit_full(records, order[:full_limit], room, count, read, task)
    head = FULL_HEADER if full else ""
    used = sum(cost for _, _, cost in full) + count(head) + count(MAP_HEADER)
    names = {p for p, _, _ in full}
    pieces = _fit_map(records, [i for i in order if records[i].path not in names], budget - used, count)
    out = _assemble(head, full, pieces, budget, final_count, exact)
    out.excerpted = {path for path in out.full if seen[path].kind == "excerpt"}
    by_path = {rec.path: rec for rec in records}
    out.shown = {path: seen[path] for path in out.full}
    for path, entry in pieces:
        if path in out.mapped:
            listed = entry.endswith(":\n") or "\n  " in entry
            symbols = [d[0] for d in _map_defs(by_path[path])] if listed else []
            out.shown[path] = Shown("map" if listed else "path", symbols=symbols)
    return out


def _fit_full(
    records: Sequence[FileRecord],
    order: Sequence[int],
    room: int,
    count: TokenCounter,
    read: Callable[[str], str],
    task: str,
) -> tuple[list[tuple[str, str, int]], dict[str, Shown]]:
    """The top files' full texts (or excerpts of the ones too large) that fit in `room` tokens."""
    full: list[tuple[str, str, int]] = []
    seen: dict[str, Shown] = {}
    used = 0
    for position, i in enumerate(order):
        rec = records[i]
        if rec.status:
            continue
        try:
            text = read(rec.path)
        except UsageError:
            continue
        entry = full_entry(rec.path, text)
        cost = count(entry)
        seen[rec.path] = Shown("whole", [(1, text.count("\n") + (not text.endswith("\n") and bool(text)))])
        if used + cost > room and position < _EXCERPT_CANDIDATES:
            # too large to send whole: send the parts the task points at, leaving room for the next files
            left = room - used
            part = excerpt_of(rec.path, text, rec.definitions, task, max(left // 3, min(left, 1200)), count)
            if part is None:
                continue
            entry, cost = part.text, count(part.text)
            seen[rec.path] = Shown("excerpt", part.lines, part.symbols)
        if used + cost <= room:
            full.append((rec.path, entry, cost))
            used += cost
    return full, seen


def _fit_map(
    records: Sequence[FileRecord], order: Sequence[int], room: int, count: TokenCounter
) -> list[tuple[str, str]]:
    """Map entries (definitions, or a bare path when those do not fit) in rank order within `room`."""
    pieces: list[tuple[str, str]] = []
    used = 0
    for i in order:
        rec = records[i]
        entry = map_entry(rec)
        cost = count(entry)
        if used + cost > room:
            if cost <= 12:
                break  # even a bare path does not fit: the map is full
            entry = f"{shown(rec.path)}\n"
            cost = count(entry)
            if used + cost > room:
                break
        pieces.append((rec.path, entry))
        used += cost
    return pieces


def _assemble(
    head: str,
    full: list[tuple[str, str, int]],
    pieces: list[tuple[str, str]],
    budget: int,
    count: TokenCounter,
    exact: bool,
) -> Rendered:
    def join() -> str:
        return head + "".join(e for _, e, _ in full) + MAP_HEADER + "".join(e for _, e in pieces)

    text = join()
    tokens = (
        count(text)
        if exact
        else sum(c for *_, c in full) + count(head) + count(MAP_HEADER) + sum(count(e) for _, e in pieces)
    )
    # a real tokenizer merges across piece boundaries differently: trim from the tail until it fits
    while tokens > budget and (pieces or full):
        if pieces:
            del pieces[-max(1, len(pieces) // 10) :]
        else:
            full.pop()
        text = join()
        tokens = count(text)
    if tokens > budget:
        text, tokens = "", 0
    return Rendered(text, tokens, {p for p, _, _ in full}, {p for p, _ in pieces})


def reader(root: Path, redact_secrets: bool, max_bytes: int) -> Callable[[str], str]:
    """A function reading a repo file for a prompt (redacted unless switched off)."""
    from lingcode.context.files import read_file_for_prompt, safe_path

    def read(path: str) -> str:
        if redact_secrets:
            return read_file_for_prompt(root, path, max_bytes)
        try:
            return safe_path(root, path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read") from exc

    return read
