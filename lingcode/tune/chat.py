"""Chat records as token ids for training, in the very form the embedded server will show the model.

The embedded GGUF carries no chat template, so lingcode serves it with llama-cpp-python's `gemma` chat
format (lingcode.model.embedded). That format drops system messages (Gemma has no system role) and wraps
each turn as `<start_of_turn>ROLE\\n...<end_of_turn>\\n`, ending the prompt with `<start_of_turn>model\\n`;
the server prepends BOS. Training on any other rendering would teach the adapter a prompt it never sees.
Loss falls on the reply and its closing `<end_of_turn>` only, so the model learns to answer and to stop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lingcode.tune.focus import changed_spans, focus_tokens

TURN_START = "<start_of_turn>"
TURN_END = "<end_of_turn>"
_ROLES = {"user": "user", "assistant": "model"}


class Tokenizer(Protocol):
    """The part of a Hugging Face tokenizer used here."""

    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...


@dataclass(frozen=True)
class Sample:
    """One training sequence: prompt then reply token ids; the loss covers ids[prompt_tokens:].

    `focus`: indices into the reply's tokens (0 = ids[prompt_tokens]) of the fix's changed lines, which
    training may weight more (lingcode.tune.focus); empty when the reply has none or they are unclear.
    """

    ids: tuple[int, ...]
    prompt_tokens: int
    focus: tuple[int, ...] = ()


def served_prompt(messages: Sequence[dict[str, str]]) -> str:
    """The prompt text the embedded server builds for these messages (before BOS), ready for the reply."""
    text = ""
    for message in messages:
        role = _ROLES.get(message["role"])
        if role is not None and message["content"]:
            text += f"{TURN_START}{role}\n{message['content']}{TURN_END}\n"
    return text + f"{TURN_START}model\n"


def encode(
    tokenizer: Tokenizer, messages: Sequence[dict[str, str]], seq_len: int, focus: bool = False
) -> Sample | None:
    """The sample for a record ending in the assistant's reply; None when it is longer than `seq_len`.

    Over-long samples are skipped, not cut: a cut reply teaches the model to stop mid-edit, and a cut prompt
    asks for a fix of code the model was not shown.
    """
    if not messages or messages[-1]["role"] != "assistant":
        return None
    prompt = tokenizer.encode(served_prompt(messages[:-1]), add_special_tokens=True)
    text = messages[-1]["content"] + TURN_END
    reply = tokenizer.encode(text, add_special_tokens=False)
    if not reply or len(prompt) + len(reply) > seq_len:
        return None
    changed = (focus_tokens(tokenizer, text, reply, changed_spans(text)) or ()) if focus else ()
    return Sample(tuple(prompt + reply), len(prompt), changed)


def read_records(path: Path) -> Iterator[list[dict[str, str]]]:
    """The chat messages of each JSONL record (as `export-sft` and `tune data` write them)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record: dict[str, Any] = json.loads(line)
                yield list(record["messages"])


def encode_all(
    tokenizer: Tokenizer, records: Iterable[list[dict[str, str]]], seq_len: int, focus: bool = False
) -> tuple[list[Sample], int]:
    """The samples that fit, and how many records were skipped as too long (or without a reply).

    `focus`: find each reply's changed tokens too (only a weighted loss uses them).
    """
    samples, skipped = [], 0
    for messages in records:
        sample = encode(tokenizer, messages, seq_len, focus)
        if sample is None:
            skipped += 1
        else:
            samples.append(sample)
    return samples, skipped
