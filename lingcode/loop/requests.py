"""Requests for more context in a model reply (`NEED FILE: path`, `NEED SYMBOL: name`) and their answers.

The syntax is taught in prompts/_format.j2: one request per line, anywhere in the reply. Answers come from the
context engine and go back as one user message; they do not count as an edit round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["ContextRequest", "answer_requests", "find_requests"]

_REQUEST = re.compile(r"^\s*[-*]?\s*NEED (FILE|SYMBOL):\s*`?([^\s`]+)`?\s*$", re.MULTILINE | re.IGNORECASE)
MAX_REQUESTS = 5
"""Most requests answered from one reply."""
_SYMBOL_LINES = 40
"""Lines of code shown from each place a symbol is defined."""


@dataclass(frozen=True)
class ContextRequest:
    """One thing the model asked to see."""

    kind: Literal["file", "symbol"]
    name: str


def find_requests(text: str) -> list[ContextRequest]:
    """The distinct requests in a reply, in order, at most MAX_REQUESTS."""
    found: list[ContextRequest] = []
    for match in _REQUEST.finditer(text):
        kind: Literal["file", "symbol"] = "file" if match.group(1).upper() == "FILE" else "symbol"
        request = ContextRequest(kind, match.group(2))
        if request not in found:
            found.append(request)
    return found[:MAX_REQUESTS]


def answer_requests(root: Path, requests: list[ContextRequest]) -> list[tuple[str, str]]:
    """(title, body) pairs answering each request, read through the context engine (secrets redacted)."""
    return [
        _answer_file(root, r.name) if r.kind == "file" else _answer_symbol(root, r.name) for r in requests
    ]


def _answer_file(root: Path, path: str) -> tuple[str, str]:
    from lingcode.context import read_file_for_prompt

    try:
        return path, read_file_for_prompt(root, path)
    except Exception as exc:  # a bad path is the model's mistake: tell it, do not end the run
        return path, f"(cannot show this file: {exc})"


def _answer_symbol(root: Path, name: str) -> tuple[str, str]:
    from lingcode.context import find_symbol, read_file_for_prompt

    try:
        hits = find_symbol(root, name)
    except Exception as exc:
        return f"symbol {name}", f"(cannot search: {exc})"
    if not hits:
        return f"symbol {name}", "(no definition found)"
    parts: list[str] = []
    for hit in hits[:3]:
        try:
            lines = read_file_for_prompt(root, hit.path).splitlines()
        except Exception:
            lines = []
        start = max(0, hit.line - 1)
        snippet = "\n".join(lines[start : start + _SYMBOL_LINES])
        parts.append(f"{hit.path}:{hit.line} ({hit.kind})\n{snippet or hit.signature}")
    return f"symbol {name}", "\n\n".join(parts)
