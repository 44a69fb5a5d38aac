"""Turning text into the lowercase terms that lexical retrieval matches on."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "is",
        "it",
        "for",
        "on",
        "with",
        "as",
        "be",
        "by",
        "this",
        "that",
        "are",
        "was",
        "at",
        "from",
        "not",
        "but",
        "if",
        "then",
        "else",
        "self",
        "cls",
        "def",
        "return",
        "import",
        "none",
        "true",
        "false",
        "class",
        "function",
        "var",
        "let",
        "const",
        "new",
        "null",
        "nil",
        "end",
        "do",
    ]
)


@lru_cache(maxsize=65536)
def split_word(word: str) -> tuple[str, ...]:
    """A word's terms: itself, lowercased, and its snake_case / camelCase parts."""
    low = word.lower().strip("_")
    if len(low) < 2:
        return ()
    parts = [p.lower() for chunk in word.split("_") for p in _CAMEL.findall(chunk)]
    out = [low] if low not in STOPWORDS else []
    out += [p for p in parts if p != low and len(p) > 1 and p not in STOPWORDS]
    return tuple(out)


def terms(text: str) -> list[str]:
    """All terms of a text, in order, with repeats."""
    out: list[str] = []
    for word in _WORD.findall(text):
        out.extend(split_word(word))
    return out


def term_counts(text: str) -> dict[str, int]:
    """How often each term occurs in a text."""
    return dict(Counter(terms(text)))
