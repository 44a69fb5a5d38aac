"""The decoding grammars: every string the per-request grammar accepts parses into edits whose SEARCH is in
the file (sampled by walking the grammar tree), and literals are escaped so the server reads the real text."""

from __future__ import annotations

import random
import re
import tempfile
from pathlib import Path

import pytest

from lingcode.edit import SearchReplace, apply_edits, parse_reply
from lingcode.edit.gbnf import Alt, Chars, Expr, Grammar, Lit, Ref, Seq
from lingcode.edit.grammar import (
    GrammarLimits,
    constrained_grammar,
    format_grammar,
    per_request_grammar,
    plain_grammar,
)

POOL = "abcXYZ019 _-./:()[]{}<>=\"'\\\t#é漢🙂"
FILES = {
    "src/calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
    + 'x = "q\\\\t"\n',
    "notes.txt": 'same\nsame\nsame\nunique one\n\ttabbed "quoted" back\\slash é 漢\n' + "L" * 3000 + "\n",
}


def sample(grammar: Grammar, rng: random.Random) -> str:
    """One random string the grammar accepts (repetitions kept short)."""
    out: list[str] = []

    def walk(expr: Expr, depth: int) -> None:
        if isinstance(expr, Lit):
            out.append(expr.text)
        elif isinstance(expr, Chars):
            allowed = [c for c in POOL if (c in expr.chars) != expr.negated]
            out.append(rng.choice(allowed))
        elif isinstance(expr, Ref):
            walk(grammar.rules[expr.name], depth + 1)
        elif isinstance(expr, Seq):
            for item in expr.items:
                walk(item, depth)
        elif isinstance(expr, Alt):
            walk(rng.choice(expr.options), depth)
        else:
            high = expr.low + 3 if expr.high is None else min(expr.high, expr.low + 3)
            if depth > 40:
                high = expr.low
            for _ in range(rng.randint(expr.low, high)):
                walk(expr.item, depth)

    walk(Ref(grammar.root), 0)
    return "".join(out)


@pytest.mark.parametrize("seed", range(150))
def test_every_sampled_reply_parses_and_its_search_is_in_the_file(seed: int) -> None:
    rng = random.Random(seed)
    grammar = per_request_grammar(FILES)
    reply = sample(grammar, rng)
    edits = parse_reply(reply)
    assert edits, reply
    for edit in edits:
        if isinstance(edit, SearchReplace):
            assert edit.path in FILES
            assert edit.search in FILES[edit.path], (edit.search, reply)
            with tempfile.TemporaryDirectory() as tmp:  # alone, each block applies
                root = Path(tmp)
                for rel, text in FILES.items():
                    (root / rel).parent.mkdir(parents=True, exist_ok=True)
                    (root / rel).write_text(text)
                result = apply_edits([edit], root)
                assert result.ok, result.rejection_message()


@pytest.mark.parametrize("seed", range(40))
def test_plain_grammar_samples_parse(seed: int) -> None:
    assert parse_reply(sample(plain_grammar(), random.Random(seed)))


def _unescape(literal: str) -> str:
    table = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}
    return re.sub(
        r"\\(x[0-9A-F]{2}|u[0-9A-F]{4}|.)",
        lambda m: table.get(m.group(1)) or chr(int(m.group(1)[1:], 16)),
        literal,
    )


def test_literals_escape_quotes_backslashes_tabs_unicode_and_long_lines() -> None:
    text = constrained_grammar(FILES).text
    literals = {_unescape(m) for m in re.findall(r'^f\d+-t\d+ ::= "((?:[^"\\]|\\.)*)"$', text, re.MULTILINE)}
    expected = {line + "\n" for body in FILES.values() for line in body.split("\n")[:-1]}
    assert literals == expected
    assert all(len(line) < 4000 for line in text.splitlines())
    assert "\t" not in text


def test_repeated_lines_get_one_literal_and_searches_must_be_unique() -> None:
    text = constrained_grammar({"n.txt": FILES["notes.txt"]}).text
    assert text.count('"same\\n"') == 1
    search = text.split("f0-search ::= ")[1].splitlines()[0]
    assert search.startswith("f0-t0 f0-t0 f0-t0 f0-l3? | f0-t0 f0-t0 f0-t1")
    assert "f0-t0 f0-l1?" not in search  # one "same" alone is ambiguous


def test_windows_restrict_where_search_starts() -> None:
    grammar = per_request_grammar(FILES, {"src/calc.py": [(5, 6)]})
    rng = random.Random(3)
    for _ in range(30):
        for edit in parse_reply(sample(grammar, rng)):
            if isinstance(edit, SearchReplace) and edit.path == "src/calc.py":
                assert edit.search.startswith(("def sub", "    return a - b"))


def test_falls_back_to_plain_grammar_past_the_size_limit() -> None:
    result = constrained_grammar(FILES, max_bytes=500)
    assert result.fallback and "limit 500" in result.reason
    assert result.text == format_grammar()
    assert not constrained_grammar(FILES).fallback


def test_vllm_form_names_its_dialect() -> None:
    assert "vLLM" in format_grammar("vllm").splitlines()[0]
    assert "root ::=" in constrained_grammar(FILES, syntax="vllm").text


def test_limits_bound_the_reply_and_can_drop_new_files_and_reasoning() -> None:
    limits = GrammarLimits(reasoning_lines=0, max_blocks=1, max_replace_lines=2, new_files=False)
    grammar = per_request_grammar(FILES, limits=limits)
    rng = random.Random(7)
    for _ in range(40):
        reply = sample(grammar, rng)
        edits = parse_reply(reply)
        assert len(edits) == 1 and isinstance(edits[0], SearchReplace)
        assert edits[0].replace.count("\n") <= 2
        assert not reply.startswith("<think>")
