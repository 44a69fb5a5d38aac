"""Context requests in the decoding grammar: a reply is either edits or requests, every request the grammar
allows is one loop/requests.py reads, and the request replies a model writes are accepted."""

from __future__ import annotations

import random
from functools import cache

import pytest

from lingcode.edit import parse_reply
from lingcode.edit.gbnf import Alt, Chars, Expr, Grammar, Lit, Ref, Seq
from lingcode.edit.grammar import GrammarLimits, per_request_grammar
from lingcode.loop.requests import find_requests
from tests.edit.test_grammar import FILES, sample

LIMITS = GrammarLimits(requests=3)
EDIT = "src/calc.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return 0\n>>>>>>> REPLACE\n"


def accepts(grammar: Grammar, text: str) -> bool:
    """Whether the grammar derives exactly `text` (a set-of-positions matcher over the rule tree)."""

    @cache
    def ends(expr: Expr, start: int) -> frozenset[int]:
        if isinstance(expr, Lit):
            return frozenset({start + len(expr.text)}) if text.startswith(expr.text, start) else frozenset()
        if isinstance(expr, Chars):
            ok = start < len(text) and (text[start] in expr.chars) != expr.negated
            return frozenset({start + 1}) if ok else frozenset()
        if isinstance(expr, Ref):
            return ends(grammar.rules[expr.name], start)
        if isinstance(expr, Seq):
            current = frozenset({start})
            for item in expr.items:
                current = frozenset(e for s in current for e in ends(item, s))
            return current
        if isinstance(expr, Alt):
            return frozenset(e for option in expr.options for e in ends(option, start))
        reached, frontier, count = set(), {start}, 0
        if expr.low == 0:
            reached.add(start)
        while frontier and (expr.high is None or count < expr.high):
            count += 1
            frontier = {e for s in frontier for e in ends(expr.item, s)} - {s for s in frontier}
            if count >= expr.low:
                reached |= frontier
        return frozenset(reached)

    return len(text) in ends(Ref(grammar.root), 0)


REQUEST_REPLIES = [
    "NEED FILE: src/calc.py\n",
    "NEED LINES: src/calc.py:1-40\n",
    "NEED SYMBOL: add\nNEED CALLERS: Calc.sub\n",
    "NEED SEARCH: return a - b\n",
    "NEED REGEX: def \\w+\\(a, b\\)\n",
    "NEED LIST: src\nNEED LIST: \n",
    "<think>\nI need sub.\n</think>\nNEED SYMBOL: sub\n",
]


@pytest.mark.parametrize("reply", REQUEST_REPLIES)
def test_request_replies_are_accepted_and_read_back(reply: str) -> None:
    grammar = per_request_grammar(FILES, limits=LIMITS)
    assert accepts(grammar, reply)
    assert len(find_requests(reply)) == reply.count("NEED ")


@pytest.mark.parametrize(
    "reply",
    [
        "NEED FILE: src/calc.py\n" + EDIT,
        "NEED FILE: ../etc passwd\n",  # a space: paths stay one word
        "NEED LINES: src/calc.py:ten-20\n",
        "NEED FILE: a\nNEED FILE: b\nNEED FILE: c\nNEED FILE: d\n",  # more than the per-turn bound
        "NEED WISH: a pony\n",
    ],
    ids=["edits-and-requests", "spaced-path", "bad-range", "too-many", "unknown-kind"],
)
def test_malformed_or_mixed_request_replies_are_refused(reply: str) -> None:
    assert not accepts(per_request_grammar(FILES, limits=LIMITS), reply)


def test_without_requests_the_grammar_refuses_them() -> None:
    grammar = per_request_grammar(FILES)
    assert not accepts(grammar, "NEED FILE: src/calc.py\n")
    assert "NEED" not in grammar.render()


def test_the_matcher_accepts_real_edits() -> None:
    assert accepts(per_request_grammar(FILES, limits=LIMITS), EDIT)


@pytest.mark.parametrize("seed", range(120))
def test_every_sampled_reply_is_edits_or_well_formed_requests(seed: int) -> None:
    reply = sample(per_request_grammar(FILES, limits=LIMITS), random.Random(seed))
    body = reply.split("</think>\n", 1)[-1]
    if body.startswith("NEED "):
        requests = find_requests(body)
        assert 1 <= len(requests) <= LIMITS.requests, reply
        assert len(requests) == len({line.rstrip() for line in body.splitlines()}), reply
    else:
        assert parse_reply(reply), reply
