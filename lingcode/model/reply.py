"""The values the model client hands back and takes in: a Reply with its Usage, a decoding Constraint, and
ServerInfo. (lingcode.events re-exports Usage, which its events carry.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Engine = Literal["llama-cpp", "llama-cpp-python", "vllm", "openai"]
"""Server software: llama.cpp's llama-server, llama-cpp-python's server, vLLM, or another OpenAI-like one."""


@dataclass(frozen=True)
class Usage:
    """Token counts of one model call (or a sum of several)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True)
class Reply:
    """One whole model reply.

    `finish_reason` is the server's ("stop", "length", ...), or "cancelled" when the caller's cancel event
    stopped it early (then `text` is what had arrived so far).
    """

    text: str
    usage: Usage
    finish_reason: str | None
    ttft_s: float
    """Seconds from sending the request to the first reply text (the whole call when not streaming)."""
    duration_s: float
    """Seconds the whole call took, retries included."""
    tokens_per_s: float
    """Completion tokens per second of generation (after the first token when streaming)."""

    @property
    def truncated(self) -> bool:
        """True when the server stopped because the reply hit max_tokens or the context window."""
        return self.finish_reason == "length"


@dataclass(frozen=True)
class Constraint:
    """A structured-output constraint for decoding; this layer only carries it to the server.

    `grammar` is the text of the constraint in `syntax`: a GBNF grammar, a regular expression, or a JSON
    schema (as JSON text).
    """

    grammar: str
    syntax: Literal["gbnf", "regex", "json_schema"] = "gbnf"


@dataclass(frozen=True)
class ServerInfo:
    """What the model server told us about itself (config overrides already applied)."""

    model: str
    """Model name to put in requests."""
    context_window: int
    """Context window in tokens (4096 when neither the server nor the config says)."""
    supports_grammar: bool
    """Whether the server takes a decoding grammar (llama.cpp, llama-cpp-python and vLLM do)."""
    engine: Engine
    version: str | None = None
    """The server's version where it reports one (vLLM's /version)."""


KEPT_REPLY_FLOOR = 32_000
"""The fewest characters of a reply ever kept whole, whatever max_tokens is."""
CHARS_PER_TOKEN_CEILING = 16
"""More characters than any tokenizer puts in one token on average, even in runs of indentation."""


def kept_reply(text: str, max_tokens: int) -> str:
    """The reply as the conversation and the run log keep it: whole, unless it is longer than a reply of
    `max_tokens` tokens can be, which only a server that ignored the limit sends (the edits are still read
    from the whole reply).

    Resending such a reply would fill the next request and the context window with it, and the run log with
    a copy per re-ask; its head (where edits start) and tail (how it ended) tell the model what it said.
    """
    limit = max(KEPT_REPLY_FLOOR, CHARS_PER_TOKEN_CEILING * max_tokens)
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 3 // 4], text[len(text) - limit // 4 :]
    cut = len(text) - len(head) - len(tail)
    note = f"\n[lingcode cut {cut} characters here: the reply was longer than max_tokens allows]\n"
    return head + note + tail
