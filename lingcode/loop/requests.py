"""Requests for more context in a model reply (`NEED FILE: path`, `NEED LINES: path:10-40`, ...), answered.

The syntax is taught in prompts/_format.j2 and, under constrained decoding, is part of the reply grammar
(edit/grammar.py `request_rules`): one request per line, after the reasoning and instead of edits. Answers
come from the context engine (context/explore.py, symbols.py), each cut to its share of the turn's token
budget, and go back as one user message; they do not count as an edit round. A request that cannot be
answered (a path outside the tree, a secret, an unknown symbol, a bad pattern) gets a one-line reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from lingcode.config import LoopConfig
from lingcode.context.tokens import estimate_tokens
from lingcode.errors import LingcodeError

if TYPE_CHECKING:
    from lingcode.loop.workspace import Workspace

__all__ = [
    "REQUEST_KINDS",
    "Answer",
    "ContextRequest",
    "RequestKind",
    "answer_requests",
    "counts",
    "find_requests",
    "send_answers",
]

RequestKind = Literal["file", "lines", "symbol", "callers", "search", "regex", "list"]
REQUEST_KINDS: tuple[RequestKind, ...] = get_args(RequestKind)
_ALIASES = {"references": "callers", "refs": "callers", "grep": "regex", "ls": "list", "dir": "list"}
_KEYWORDS = "|".join(k.upper() for k in (*REQUEST_KINDS, *_ALIASES))
_REQUEST = re.compile(rf"^[ \t]*[-*]?[ \t]*NEED ({_KEYWORDS}):[ \t]*(.*?)[ \t]*$", re.M | re.I)
_RANGE = re.compile(r"^(?P<path>.+?)(?::|#L|\s+)(?P<start>\d+)(?:\s*-\s*L?(?P<end>\d+))?$")
_SYMBOL_LINES = 40
"""Lines of code shown from each place a symbol is defined."""


@dataclass(frozen=True)
class ContextRequest:
    """One thing the model asked to see: a kind and its argument (a path, range, name or pattern)."""

    kind: RequestKind
    name: str


@dataclass(frozen=True)
class Answer:
    """What one request got: a title, the body, and whether it was answered (False: refused or not found)."""

    request: ContextRequest
    title: str
    body: str
    ok: bool

    @property
    def tokens(self) -> int:
        """Estimated tokens of the answer as the model reads it."""
        return estimate_tokens(self.title) + estimate_tokens(self.body)


def find_requests(text: str) -> list[ContextRequest]:
    """The distinct requests in a reply, in order (the caller bounds how many it answers)."""
    found: list[ContextRequest] = []
    for match in _REQUEST.finditer(text):
        word = match.group(1).lower()
        kind: RequestKind = _ALIASES.get(word, word)  # type: ignore[assignment]
        argument = _unquote(match.group(2))
        request = ContextRequest(kind, argument)
        if request not in found and (argument or kind == "list"):
            found.append(request)
    return found


def _unquote(text: str) -> str:
    """The argument without the backticks or quotes a model puts around it."""
    for quote in ("`", '"', "'"):
        if len(text) >= 2 and text.startswith(quote) and text.endswith(quote):
            return text[1:-1]
    return text


def answer_requests(root: Path, requests: list[ContextRequest], config: LoopConfig) -> list[Answer]:
    """An answer per request (at most `max_requests_per_turn`; the rest are told to wait), each cut to an
    equal share of `request_tokens`."""
    taken = requests[: config.max_requests_per_turn]
    share = config.request_tokens // max(1, len(taken))
    answers = [_fit(_answer(root, request, config), share) for request in taken]
    for request in requests[len(taken) :]:
        reason = f"(not answered: at most {config.max_requests_per_turn} requests per reply; ask again)"
        answers.append(Answer(request, f"{request.kind} {request.name}", reason, False))
    return answers


def _answer(root: Path, request: ContextRequest, config: LoopConfig) -> Answer:
    """Answer one request; a refusal or a miss is the model's mistake: say why, do not end the run."""
    from lingcode.context import explore

    limits = explore.SearchLimits(max_hits=config.search_hits, seconds=config.search_seconds)
    name = request.name
    try:
        match request.kind:
            case "file":
                title, body = _file(root, name)
            case "lines":
                title, body = _lines(root, name, config.request_lines)
            case "symbol":
                title, body = _symbol(root, name)
            case "callers":
                title, body = explore.callers(root, name, limits)
            case "search" | "regex":
                title, body = explore.search_tree(root, name, is_regex=request.kind == "regex", limits=limits)
            case "list":
                title, body = explore.list_directory(root, name)
    except LingcodeError as exc:
        return Answer(request, f"{request.kind} {name}", f"(cannot answer: {exc.message})", False)
    except (OSError, ValueError, RecursionError) as exc:
        return Answer(request, f"{request.kind} {name}", f"(cannot answer: {exc})", False)
    found = not body.startswith("(no ")
    return Answer(request, title, body, found)


def _fit(answer: Answer, tokens: int) -> Answer:
    """The answer cut, whole lines at a time, to `tokens`; the cut says how to see the rest."""
    if answer.tokens <= tokens:
        return answer
    note = "\n(cut to fit the context budget: ask for NEED LINES: path:START-END to see more)"
    room = tokens - estimate_tokens(answer.title) - estimate_tokens(note)
    kept: list[str] = []
    used = 0
    for line in answer.body.splitlines():
        cost = estimate_tokens(line + "\n")
        if used + cost > room:
            break
        kept.append(line)
        used += cost
    return Answer(answer.request, answer.title, "\n".join(kept) + note, answer.ok)


def _file(root: Path, path: str) -> tuple[str, str]:
    from lingcode.context import read_file_for_prompt
    from lingcode.context.explore import relative_path

    clean = relative_path(path)
    return clean, read_file_for_prompt(root, clean)


def _lines(root: Path, argument: str, max_lines: int) -> tuple[str, str]:
    from lingcode.context.explore import read_lines
    from lingcode.errors import UsageError

    match = _RANGE.match(argument.strip())
    if match is None:
        raise UsageError(f"{argument}: write the range as path:START-END, e.g. src/app.py:10-40")
    start = int(match.group("start"))
    end = int(match.group("end") or start)
    return read_lines(root, match.group("path").strip(), start, end, max_lines)


def _symbol(root: Path, name: str) -> tuple[str, str]:
    from lingcode.context import find_symbol, read_file_for_prompt

    hits = find_symbol(root, name)
    if not hits:
        return f"symbol {name}", "(no definition found)"
    parts: list[str] = []
    for hit in hits[:3]:
        try:
            lines = read_file_for_prompt(root, hit.path).splitlines()
        except LingcodeError:
            lines = []
        start = max(0, hit.line - 1)
        snippet = "\n".join(lines[start : start + _SYMBOL_LINES])
        parts.append(f"{hit.path}:{hit.line} ({hit.kind})\n{snippet or hit.signature}")
    return f"symbol {name}", "\n\n".join(parts)


def counts(answers: list[Answer]) -> dict[str, int]:
    """How many requests of each kind, for the run's result."""
    tally: dict[str, int] = {}
    for answer in answers:
        tally[answer.request.kind] = tally.get(answer.request.kind, 0) + 1
    return tally


def send_answers(ws: Workspace, requests: list[ContextRequest]) -> list[Answer]:
    """Answer a reply's requests: an event each (the UI shows them), a trajectory record, one user message."""
    from lingcode.events import ContextRequested

    answers = answer_requests(ws.root, requests, ws.config.loop)
    for answer in answers:
        request = answer.request
        ws.sink(ContextRequested(request.kind, request.name, answer.title, answer.body, answer.ok))
    ws.record(
        "context_requests",
        requests=[
            {
                "kind": a.request.kind,
                "target": a.request.name,
                "title": a.title,
                "answered": a.ok,
                "tokens": a.tokens,
            }
            for a in answers
        ],
    )
    ws.user("context_answer", answers=[(a.title, a.body) for a in answers])
    return answers
