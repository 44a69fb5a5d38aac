"""A tiny grammar tree and its rendering as GBNF (llama.cpp) or the EBNF that vLLM's structured outputs take.

Grammars are built as data so tests can walk them (sample strings) and the text is always escaped the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Syntax = Literal["gbnf", "vllm"]


@dataclass(frozen=True)
class Lit:
    """A literal string."""

    text: str


@dataclass(frozen=True)
class Chars:
    """One character from `chars` (or, when `negated`, any character not in it)."""

    chars: str
    negated: bool = False


@dataclass(frozen=True)
class Ref:
    """A reference to a named rule."""

    name: str


@dataclass(frozen=True)
class Seq:
    """The items one after another."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Alt:
    """Exactly one of the options."""

    options: tuple[Expr, ...]


@dataclass(frozen=True)
class Rep:
    """`item` repeated between `low` and `high` times (high None: unbounded)."""

    item: Expr
    low: int = 0
    high: int | None = None


Expr = Lit | Chars | Ref | Seq | Alt | Rep


@dataclass
class Grammar:
    """Named rules; `root` is where a reply starts."""

    rules: dict[str, Expr]
    root: str = "root"

    def render(self, syntax: Syntax = "gbnf") -> str:
        """The grammar as text. Both syntaxes share GBNF's form (vLLM's xgrammar backend reads it as EBNF);
        the header comment says which server it was made for."""
        header = (
            "# lingcode reply grammar (llama.cpp GBNF)"
            if syntax == "gbnf"
            else ("# lingcode reply grammar (EBNF for vLLM structured outputs, `grammar` option)")
        )
        ordered = [self.root, *sorted(name for name in self.rules if name != self.root)]
        return (
            header
            + "\n"
            + "\n".join(f"{name} ::= {_expr(self.rules[name], top=True)}" for name in ordered)
            + "\n"
        )


def _expr(expr: Expr, top: bool = False) -> str:
    if isinstance(expr, Lit):
        return '"' + "".join(_escape_char(char, '"') for char in expr.text) + '"'
    if isinstance(expr, Chars):
        body = "".join(_class_char(char) for char in expr.chars)
        return f"[{'^' if expr.negated else ''}{body}]"
    if isinstance(expr, Ref):
        return expr.name
    if isinstance(expr, Seq):
        text = " ".join(_expr(item) for item in expr.items) if expr.items else '""'
        return text if top or len(expr.items) <= 1 else f"({text})"
    if isinstance(expr, Alt):
        text = " | ".join(_expr(option, top=True) for option in expr.options)
        return text if top else f"({text})"
    inner = _expr(expr.item)
    if isinstance(expr.item, Seq | Alt) and not inner.startswith("("):
        inner = f"({inner})"
    if (expr.low, expr.high) == (0, 1):
        return f"{inner}?"
    if (expr.low, expr.high) == (0, None):
        return f"{inner}*"
    if (expr.low, expr.high) == (1, None):
        return f"{inner}+"
    return f"{inner}{{{expr.low},{'' if expr.high is None else expr.high}}}"


def _class_char(char: str) -> str:
    """A character inside [...]: the class's own metacharacters as hex escapes (llama.cpp knows no `\\-`)."""
    if char in "[]^-":
        return f"\\x{ord(char):02X}"
    return _escape_char(char, "")


def _escape_char(char: str, specials: str) -> str:
    """One character as it may appear in a GBNF literal: quotes, backslashes and controls escaped."""
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
    if char in named:
        return named[char]
    if char in specials:
        return "\\" + char
    code = ord(char)
    if code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
        return f"\\x{code:02X}" if code < 0x100 else f"\\u{code:04X}"
    if code in (0x2028, 0x2029, 0xFEFF, 0x85):
        return f"\\u{code:04X}"
    return char
