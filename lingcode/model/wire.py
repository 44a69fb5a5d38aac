"""The OpenAI chat-completions wire format: SSE events, stream chunks, whole completions and usage.

Usage comes in three dialects: OpenAI/vLLM `usage.prompt_tokens_details.cached_tokens`, llama.cpp's
`timings` (`cache_n`, `prompt_n`, `predicted_n`) and its older top-level `tokens_cached`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from lingcode.model.reply import Usage


class WireError(ValueError):
    """The server's bytes do not make a chat completion; the message reads on after "the model server"."""


def sse_data(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The data payloads of an SSE byte stream's events; an event left unfinished at the end is dropped."""
    splitter = SseSplitter()
    for chunk in chunks:
        yield from splitter.push(chunk)


class SseSplitter:
    """Splits SSE bytes, pushed as they arrive, into the data payloads of whole events.

    Works on bytes, splitting whole events at once: a stream has hundreds of tiny events per reply, and
    decoding text and splitting lines one by one costs more than the rest of the client together.
    """

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending = b""
        """Bytes of an event that has not ended yet."""

    def push(self, chunk: bytes) -> list[bytes]:
        """The data payloads of the events that chunk completes."""
        pending = self.pending + chunk
        if b"\r" in pending:
            # CRLF line ends; a CR at the very end may be half of one, so it waits for the next chunk
            held = pending.endswith(b"\r")
            pending = (
                pending[:-1].replace(b"\r\n", b"\n") + b"\r" if held else pending.replace(b"\r\n", b"\n")
            )
        if b"\n\n" not in pending:
            self.pending = pending
            return []
        *events, self.pending = pending.split(b"\n\n")
        payloads = []
        for event in events:
            if event.startswith(b"data: ") and b"\n" not in event:
                payloads.append(event[6:])  # the usual shape: one data line
                continue
            data = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
            # comments (":") and other fields (event:, id:, retry:) carry nothing for chat completions
            if data:
                payloads.append(b"\n".join(data))
        return payloads


@dataclass
class StreamState:
    """What a stream has delivered so far."""

    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    done: bool = False
    """True once `data: [DONE]` arrived."""

    @property
    def text(self) -> str:
        """The reply text so far."""
        return "".join(self.parts)

    @property
    def complete(self) -> bool:
        """Whether the stream ended properly: [DONE], or at least a finish reason."""
        return self.done or self.finish_reason is not None

    def feed(self, payload: bytes | str) -> str:
        """Take one event's data; return the reply text it adds ("" for none)."""
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
        if text == "[DONE]":
            self.done = True
            return ""
        fast = fast_content(text)
        if fast is not None:
            if fast:
                self.parts.append(fast)
            return fast
        return self.parse(text)

    def parse(self, payload: bytes | str) -> str:
        """Take one event's data (not [DONE]) with a full JSON parse; return the reply text it adds."""
        chunk = _load(payload, "a stream chunk")
        if "usage" in chunk or "timings" in chunk:
            usage = parse_usage(chunk)
            if usage is not None:
                self.usage = usage
        added = ""
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str) and content:
                added += content
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        if added:
            self.parts.append(added)
        return added


_CONTENT_KEYS = ('"content":"', '"content": "')
_NOT_FINISHED = ('"finish_reason":null', '"finish_reason": null')
_OTHER_NEWS = ('"usage"', '"timings"', '"error"')


def fast_content(text: str) -> str | None:
    """The delta text of the commonest chunk, a mid-reply token, read without parsing the whole chunk; None
    for any other shape, which the full parse then reads.

    Safe because JSON escapes every quote inside a string: the quoted keys searched for here cannot occur
    inside a value, so a match is a real key. A stream has one such chunk per token, and parsing each whole
    took most of the client's own time (benchmarks/client_overhead.py).
    """
    if not text.endswith("}") or not (_NOT_FINISHED[0] in text or _NOT_FINISHED[1] in text):
        return None
    if any(news in text for news in _OTHER_NEWS):
        return None
    if text.count("{") != text.count("}") or text.count("[") != text.count("]"):
        return None  # cut short (or braces inside the text): let the full parse judge
    for key in _CONTENT_KEYS:
        at = text.find(key)
        if at >= 0:
            try:
                return str(scanstring(text, at + len(key))[0])
            except ValueError:
                return None  # a broken string: the full parse reports it
    return None


@dataclass(frozen=True)
class Completion:
    """A whole (non-streamed) completion."""

    text: str
    finish_reason: str | None
    usage: Usage | None


def parse_completion(body: bytes) -> Completion:
    """Read a non-streamed chat completion; malformed bodies raise WireError."""
    try:
        payload_text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("sent a reply that is not UTF-8 text") from None
    payload = _load(payload_text, "its reply")
    choices = payload.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    message = choice.get("message") if choice is not None else None
    if choice is None or not isinstance(message, dict):
        raise WireError(f"sent a reply without a message: {_snippet(payload_text)}")
    content = message.get("content")
    finish = choice.get("finish_reason")
    return Completion(
        text=content if isinstance(content, str) else "",
        finish_reason=str(finish) if finish else None,
        usage=parse_usage(payload),
    )


def _load(text: bytes | str, what: str) -> dict[str, Any]:
    try:
        # decoding first skips json's encoding sniffing, a third of the cost of a small chunk
        value = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WireError(f"sent malformed JSON in {what}: {_snippet(text)}") from None
    if not isinstance(value, dict):
        raise WireError(f"sent unexpected JSON in {what}: {_snippet(text)}")
    error = value.get("error")
    if error:
        raise WireError(f"reported an error: {error_message(value)}")
    return value


def error_message(payload: Any) -> str:
    """The human part of an OpenAI-style error body (or the body itself, shortened)."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return " ".join(str(error["message"]).split())[:300]
    if isinstance(error, str):
        return error[:300]
    if isinstance(payload, dict) and payload.get("detail"):
        return str(payload["detail"])[:300]
    return _snippet(json.dumps(payload) if payload is not None else "")


def _snippet(text: bytes | str, limit: int = 80) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")


def parse_usage(payload: dict[str, Any]) -> Usage | None:
    """Usage from a completion or chunk in any of the dialects; None when it carries none."""
    usage = payload.get("usage")
    timings = payload.get("timings")
    if not isinstance(usage, dict) and not isinstance(timings, dict) and "tokens_cached" not in payload:
        return None
    usage = usage if isinstance(usage, dict) else {}
    timings = timings if isinstance(timings, dict) else {}
    details = usage.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else 0
    cached = cached or _count(timings.get("cache_n")) or _count(payload.get("tokens_cached"))
    prompt = _count(usage.get("prompt_tokens")) or _count(timings.get("cache_n")) + _count(
        timings.get("prompt_n")
    )
    completion = _count(usage.get("completion_tokens")) or _count(timings.get("predicted_n"))
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
