"""Edits aimed at a file that does not exist, whose SEARCH lines are in exactly one file the model was shown.

Small models copy code better than paths: the embedded model tuned on one repository opens a block for
another with a path that starts like its training paths (`lingameer/...`) and then copies the SEARCH lines
right. Such a block is meant for the one shown file that holds its SEARCH lines, so it is moved there, and
the caller says so. Nothing else changes: a block for an existing file, a new file (empty SEARCH), a path
that an earlier block of the reply creates, or SEARCH lines that fit no shown file or more than one are
left as they are (and rejected as before, with their "no such file" hint). Safety checks run on the new
path as on any other (apply_edits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from lingcode.edit import build
from lingcode.edit.apply import block_lines
from lingcode.edit.paths import UnsafePath, normalize
from lingcode.edit.text import TextFile, Unreadable
from lingcode.edit.types import CreateFile, Edit, SearchReplace, WholeFile


def retarget(edits: Sequence[Edit], root: Path, shown: Sequence[str]) -> tuple[list[Edit], list[str]]:
    """(the edits, each misaddressed SEARCH/REPLACE moved to the shown file it fits; one note per move)."""
    out: list[Edit] = []
    notes: list[str] = []
    created: set[str] = set()
    texts: dict[str, list[str] | None] = {}
    for edit in edits:
        path = _normal(edit.path)
        if isinstance(edit, CreateFile | WholeFile) or (isinstance(edit, SearchReplace) and not edit.search):
            created.add(path)
        elif isinstance(edit, SearchReplace) and path not in created and not (root / path).exists():
            fits = [p for p in shown if p != path and _fits(edit, _lines_of(root, p, texts))]
            if len(fits) == 1:
                notes.append(f"{edit.path} does not exist; its SEARCH lines are in {fits[0]}: applied there")
                edit = replace(edit, path=fits[0])
        out.append(edit)
    return out, notes


def _normal(path: str) -> str:
    try:
        return normalize(path)
    except UnsafePath:
        return path  # apply_edits refuses it with the reason


def _lines_of(root: Path, path: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    if path not in cache:
        try:
            cache[path] = TextFile.decode((root / path).read_bytes()).lines
        except (OSError, Unreadable):
            cache[path] = None
    return cache[path]


def _fits(edit: SearchReplace, lines: list[str] | None) -> bool:
    """Whether the block's SEARCH lines are found in lines, once (as apply_edits would find them)."""
    if lines is None:
        return False
    try:
        build.search_replace(lines, block_lines(edit.search), block_lines(edit.replace), "block")
    except build.BlockRejected:
        return False
    return True
