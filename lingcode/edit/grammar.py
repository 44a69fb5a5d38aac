"""The reply format as a decoding grammar: the plain format (any path, free SEARCH), and a per-request form in
which every SEARCH the model can write is a run of real lines of a file in context, so it always applies.

A reply is an optional bounded reasoning section, then one or more SEARCH/REPLACE blocks separated by a
blank line. In the per-request form a SEARCH may start at any line (of the ranked windows, when given) but
must run on at least as many lines as make it unique in its file; it may then go on line by line.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lingcode.edit.gbnf import Alt, Chars, Expr, Grammar, Lit, Ref, Rep, Seq, Syntax

REASONING_LINES = 12
REASONING_LINE_CHARS = 160
MAX_BLOCKS = 4
MAX_REPLACE_LINES = 60
MAX_LINE_CHARS = 240
DEFAULT_MAX_BYTES = 400_000
MAX_UNIQUE_RUN = 8

PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-"
SEARCH_OPEN = "\n<<<<<<< SEARCH\n"
DIVIDER = "=======\n"
REPLACE_CLOSE = ">>>>>>> REPLACE\n"


@dataclass(frozen=True)
class GrammarLimits:
    """Bounds that keep a constrained reply short enough to finish within the reply's token budget."""

    reasoning_lines: int = REASONING_LINES
    """Most lines in the reasoning section (0: no reasoning section)."""
    max_blocks: int = MAX_BLOCKS
    """Most SEARCH/REPLACE blocks in one reply."""
    max_replace_lines: int = MAX_REPLACE_LINES
    """Most lines in one REPLACE section."""
    max_line_chars: int = MAX_LINE_CHARS
    """Most characters in one free (REPLACE or SEARCH) line."""
    new_files: bool = True
    """Allow the new-file form (its path is free, so naming an existing file is still refused by apply)."""
    requests: int = 0
    """Most context-request lines (`NEED FILE: ...`) a reply may hold instead of blocks (0: none)."""


@dataclass(frozen=True)
class GrammarResult:
    """A grammar to send; `fallback` is True when the plain grammar was used instead, `reason` says why."""

    text: str
    syntax: Syntax
    fallback: bool = False
    reason: str = ""
    compile_s: float = 0.0


def _common_rules(limits: GrammarLimits) -> dict[str, Expr]:
    """Rules every form shares: reasoning, free lines (no marker lines), REPLACE bodies, new-file blocks."""
    not_marker = Chars("<=>\n", negated=True)
    any_char = Chars("\n", negated=True)
    line_chars = limits.max_line_chars
    rules: dict[str, Expr] = {}
    if limits.reasoning_lines > 0:  # else the root offers no reasoning section: no rules for one either
        rules["reasoning"] = Seq(
            (Lit("<think>\n"), Rep(Ref("think-line"), 0, limits.reasoning_lines), Lit("</think>\n"))
        )
        rules["think-line"] = Seq((Rep(Chars("<\n", negated=True), 0, REASONING_LINE_CHARS), Lit("\n")))
    return rules | {
        "free-line": Seq(
            (
                Rep(
                    Alt(
                        (
                            Seq((not_marker, Rep(any_char, 0, line_chars))),
                            Seq(
                                (
                                    Rep(Chars("<=>"), 1, 4),
                                    Rep(Seq((not_marker, Rep(any_char, 0, line_chars))), 0, 1),
                                )
                            ),
                        )
                    ),
                    0,
                    1,
                ),
                Lit("\n"),
            )
        ),
        "replace": Rep(Ref("free-line"), 0, limits.max_replace_lines),
        "new-path": Rep(Chars(PATH_CHARS), 1, 120),
        "new-file": Seq((Ref("new-path"), Lit(SEARCH_OPEN + DIVIDER), Ref("replace"), Lit(REPLACE_CLOSE))),
    }


def request_rules(count: int) -> dict[str, Expr]:
    """Rules for 1..count request lines, each one of the kinds loop/requests.py answers, well-formed."""
    path = Rep(Chars(PATH_CHARS), 1, 120)
    digits = Rep(Chars("0123456789"), 1, 7)
    name = Rep(Chars(PATH_CHARS.replace("/", "").replace("-", "") + ":"), 1, 120)
    # the first character is not blank: the reader strips blanks, and an empty pattern is no request
    pattern = Seq((Chars(" \t\r\n", negated=True), Rep(Chars("\n", negated=True), 0, 119)))
    kinds: tuple[Expr, ...] = (
        Seq((Lit("FILE: "), Ref("request-path"))),
        Seq((Lit("LINES: "), Ref("request-path"), Lit(":"), digits, Lit("-"), digits)),
        Seq((Lit("SYMBOL: "), name)),
        Seq((Lit("CALLERS: "), name)),
        Seq((Lit("SEARCH: "), pattern)),
        Seq((Lit("REGEX: "), pattern)),
        Seq((Lit("LIST: "), Rep(Ref("request-path"), 0, 1))),
    )
    return {
        "requests": Rep(Ref("request"), 1, count),
        "request": Seq((Lit("NEED "), Alt(kinds), Lit("\n"))),
        "request-path": path,
    }


def _root(block: Expr, limits: GrammarLimits) -> dict[str, Expr]:
    blocks: Expr = Seq((Ref("block"), Rep(Seq((Lit("\n"), Ref("block"))), 0, limits.max_blocks - 1)))
    rules: dict[str, Expr] = {"block": block}
    if limits.requests > 0:  # a reply is either edits or requests for more context, never both
        rules |= request_rules(limits.requests) | {"blocks": blocks}
        blocks = Alt((Ref("blocks"), Ref("requests")))
    if limits.reasoning_lines <= 0:
        return rules | {"root": blocks}
    return rules | {"root": Seq((Rep(Ref("reasoning"), 0, 1), blocks))}


def plain_grammar(limits: GrammarLimits | None = None) -> Grammar:
    """The reply format with any path and free SEARCH lines."""
    limits = limits or GrammarLimits()
    search = Rep(Ref("free-line"), 1, None)
    edit = Seq((Ref("new-path"), Lit(SEARCH_OPEN), search, Lit(DIVIDER), Ref("replace"), Lit(REPLACE_CLOSE)))
    rules = _common_rules(limits)
    rules.update(_root(Alt((Ref("edit"), Ref("new-file"))), limits))
    rules["edit"] = edit
    return Grammar(rules)


def format_grammar(syntax: Syntax = "gbnf") -> str:
    """The plain reply-format grammar: optional reasoning section, then SEARCH/REPLACE blocks."""
    return plain_grammar().render(syntax)


def constrained_grammar(
    files: Mapping[str, str],
    *,
    syntax: Syntax = "gbnf",
    max_bytes: int = DEFAULT_MAX_BYTES,
    windows: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    limits: GrammarLimits | None = None,
) -> GrammarResult:
    """A grammar that lets SEARCH be only runs of real lines of `files` (path -> text); `windows` (path ->
    1-based inclusive line ranges, best first) narrows where a SEARCH may start and run. Past `max_bytes`
    the plain grammar comes back instead, with the reason; `limits` bounds the reply's length."""
    started = time.perf_counter()
    grammar = per_request_grammar(files, windows, limits)
    text = grammar.render(syntax)
    if len(text) > max_bytes:
        reason = (
            f"the per-request grammar would be {len(text)} bytes (limit {max_bytes}); using the plain format"
        )
        plain = plain_grammar(limits).render(syntax)
        return GrammarResult(plain, syntax, True, reason, time.perf_counter() - started)
    if not files:
        return GrammarResult(
            text,
            syntax,
            False,
            "no files in context: only new files can be written",
            time.perf_counter() - started,
        )
    return GrammarResult(text, syntax, False, "", time.perf_counter() - started)


def per_request_grammar(
    files: Mapping[str, str],
    windows: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    limits: GrammarLimits | None = None,
) -> Grammar:
    """The per-request grammar tree (see constrained_grammar)."""
    limits = limits or GrammarLimits()
    rules = _common_rules(limits)
    choices: list[Expr] = [Ref("new-file")] if limits.new_files else []
    for number, (path, text) in enumerate(sorted(files.items())):
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        allowed = _allowed_lines(len(lines), (windows or {}).get(path))
        search = _search_rules(f"f{number}", lines, allowed, rules)
        if search is None:
            continue
        rules[f"f{number}"] = Seq(
            (Lit(path + SEARCH_OPEN), search, Lit(DIVIDER), Ref("replace"), Lit(REPLACE_CLOSE))
        )
        choices.insert(len(choices) - 1 if limits.new_files else len(choices), Ref(f"f{number}"))
    rules.update(_root(Alt(tuple(choices)), limits))
    return Grammar(rules)


def _allowed_lines(count: int, ranges: Sequence[tuple[int, int]] | None) -> list[bool]:
    if not ranges:
        return [True] * count
    allowed = [False] * count
    for low, high in ranges:
        for index in range(max(low, 1) - 1, min(high, count)):
            allowed[index] = True
    return allowed


def _search_rules(prefix: str, lines: list[str], allowed: list[bool], rules: dict[str, Expr]) -> Expr | None:
    """Rules for one file's SEARCH: a literal per distinct line, a chain rule per line (`it, then maybe the
    next`), and one start per line that runs on until the text is unique in the file."""
    counts = Counter(lines)  # over the whole file: a run must be unique there, not only in the windows
    literal: dict[str, str] = {}
    for line, reachable in zip(lines, allowed, strict=True):
        if reachable and line not in literal:  # lines outside every window get no rule at all
            literal[line] = f"{prefix}-t{len(literal)}"
            rules[literal[line]] = Lit(line + "\n")
    for index in range(len(lines) - 1, -1, -1):
        if not allowed[index]:
            continue
        chained = index + 1 < len(lines) and allowed[index + 1]
        tail: tuple[Expr, ...] = (Rep(Ref(f"{prefix}-l{index + 1}"), 0, 1),) if chained else ()
        rules[f"{prefix}-l{index}"] = Seq((Ref(literal[lines[index]]), *tail))
    starts: list[Expr] = []
    for index in range(len(lines)):
        run = _unique_run(lines, index, counts, allowed)
        if run is None:
            continue
        items: list[Expr] = [Ref(literal[line]) for line in lines[index : index + run]]
        after = index + run
        if after < len(lines) and allowed[after]:
            items.append(Rep(Ref(f"{prefix}-l{after}"), 0, 1))
        starts.append(Seq(tuple(items)))
    if not starts:
        return None
    rules[f"{prefix}-search"] = Alt(tuple(starts))
    return Ref(f"{prefix}-search")


def _unique_run(lines: list[str], index: int, counts: Counter[str], allowed: list[bool]) -> int | None:
    """How many lines from `index` make a run that occurs once in the file (None: not within reach)."""
    if not allowed[index] or not lines[index].strip():
        return None
    if counts[lines[index]] == 1:
        return 1
    for run in range(2, MAX_UNIQUE_RUN + 1):
        end = index + run
        if end > len(lines) or not all(allowed[index:end]):
            return None
        window = lines[index:end]
        hits = sum(1 for start in range(len(lines) - run + 1) if lines[start : start + run] == window)
        if hits == 1:
            return run
    return None
