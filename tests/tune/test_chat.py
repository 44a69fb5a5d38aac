"""Training samples are rendered as the embedded server renders a request, and the loss covers the reply."""

from __future__ import annotations

import importlib.util

import pytest

from lingcode.tune.chat import encode, served_prompt
from lingcode.tune.data import is_excluded

MESSAGES = [
    {"role": "system", "content": "You edit code."},
    {"role": "user", "content": "Fix `clamp`."},
    {"role": "assistant", "content": "m.py\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n"},
]


class CharTokenizer:
    """One id per character (BOS = 1), enough to check where a sample's reply starts."""

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return ([1] if add_special_tokens else []) + [ord(c) for c in text]


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed")
def test_prompt_is_the_servers_gemma_format() -> None:
    from llama_cpp.llama_chat_format import format_gemma

    served = format_gemma(messages=MESSAGES[:-1])  # type: ignore[arg-type]
    assert served_prompt(MESSAGES[:-1]) == served.prompt
    assert "You edit code." not in served.prompt  # the server drops system turns: training must too


def test_loss_covers_the_reply_and_its_end_of_turn() -> None:
    sample = encode(CharTokenizer(), MESSAGES, seq_len=10_000)
    assert sample is not None
    reply = "".join(chr(i) for i in sample.ids[sample.prompt_tokens :])
    assert reply == MESSAGES[-1]["content"] + "<end_of_turn>"
    prompt = "".join(chr(i) for i in sample.ids[1 : sample.prompt_tokens])
    assert prompt.endswith("<start_of_turn>model\n") and sample.ids[0] == 1


def test_long_samples_and_records_without_a_reply_are_skipped() -> None:
    sample = encode(CharTokenizer(), MESSAGES, seq_len=10_000)
    assert sample is not None
    assert encode(CharTokenizer(), MESSAGES, seq_len=len(sample.ids)) == sample
    assert encode(CharTokenizer(), MESSAGES, seq_len=len(sample.ids) - 1) is None
    assert encode(CharTokenizer(), MESSAGES[:-1], seq_len=10_000) is None


@pytest.mark.parametrize(
    ("path", "patterns", "excluded"),
    [
        ("examples/calc/calc.py", ["examples"], True),
        ("examples/calc/calc.py", ["examples/"], True),
        ("examples/calc/calc.py", ["examples/*"], True),
        ("src/examples.py", ["examples"], False),
        ("src/a_test.py", ["*_test.py"], True),
        ("src/a.py", [], False),
    ],
)
def test_exclude_globs(path: str, patterns: list[str], excluded: bool) -> None:
    assert is_excluded(path, patterns) is excluded
