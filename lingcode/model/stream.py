"""A streamed reply's SSE bytes turned into text, with a fast path for the chunk that carries one token.

A stream has one chunk per token, and nearly all of them share one byte shape: the same JSON with only the
delta's content string changing. Once a chunk has been read in full, its bytes before and after that string
become a template, and a later chunk with the same bytes around one JSON string is read by slicing, not
parsed. That is exact, not a guess: a JSON string is one token whatever it holds, so equal surroundings make
an equal document with only that string changed; and a template is proven once, when it is learned, by a full
parse with a probe string in its place. Anything else (other shapes, the final chunks, faults) takes the full
parse in `StreamState.feed`, which reports what is wrong.

Reading every chunk as SSE text and JSON cost the client about half again what httpx spends receiving it
(benchmarks/client_overhead.py); the fast path costs a small fraction of that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]

from lingcode.model.wire import SseSplitter, StreamState, WireError

_PLAIN_STRING = re.compile(rb'[^"\\\x00-\x1f]*"')
"""The rest of a JSON string without escapes or control characters, up to its closing quote."""

_CONTENT_KEYS = (b'"content":"', b'"content": "')
_PROBE = "lingcode-template-probe"
_LEARN_EVERY = 32
"""At most one chunk in this many (after the first few) tries to make a template: a try costs two full
parses, and a stream whose shape keeps changing (a server that stamps each chunk with the time) must not pay
them on every chunk."""


class Template:
    """The bytes of one chunk shape around its content string, as a whole SSE event and as its data."""

    __slots__ = ("event_head", "event_tail", "head", "tail")

    def __init__(self, head: bytes, tail: bytes) -> None:
        self.head = head
        """The data up to and including the content string's opening quote (ASCII)."""
        self.tail = tail
        """The data after the content string's closing quote (ASCII)."""
        self.event_head = b"data: " + head
        self.event_tail = tail + b"\n\n"

    @staticmethod
    def read(data: bytes, head: bytes, tail: bytes) -> str | None:
        """The content string of data framed by head and tail (a template's event pair or its data pair), or
        None when data does not fit them exactly."""
        if not (data.startswith(head) and data.endswith(tail)):
            return None
        start = len(head)
        match = _PLAIN_STRING.match(data, start)
        try:
            if match is None:  # escapes: the JSON decoder's own string scanner reads them
                text = data.decode("utf-8")
                value, end = scanstring(text, start)
                return str(value) if end == len(text) - len(tail) else None
            end = match.end()
            return data[start : end - 1].decode("utf-8") if end + len(tail) == len(data) else None
        except ValueError:  # UnicodeDecodeError is one: the full parse decides what broken bytes read as
            return None


def learn(data: bytes) -> Template | None:
    """The template of one event's data (a chunk already read in full), or None when it does not make one."""
    if b"\n" in data or b"\r" in data or data.count(b'"content"') != 1 or _PROBE.encode() in data:
        return None
    for key in _CONTENT_KEYS:
        at = data.find(key)
        if at >= 0:
            break
    else:
        return None
    start = at + len(key)
    head = data[:start]
    if not head.isascii():  # character and byte offsets must agree
        return None
    try:
        text = data.decode("utf-8")
        end = scanstring(text, start)[1]
    except ValueError:  # UnicodeDecodeError is one
        return None
    tail = text[end:].encode("utf-8")
    if not tail.isascii():
        return None
    probe = StreamState()
    try:
        added = probe.parse(head + _PROBE.encode() + b'"' + tail)
    except WireError:
        return None
    if added != _PROBE or probe.finish_reason is not None or probe.usage is not None or probe.done:
        return None
    return Template(head, tail)


def stream_text(chunks: Iterable[bytes], state: StreamState) -> Iterator[str]:
    """Feed an SSE byte stream into state; yield each piece of reply text as it arrives.

    The common case, one whole token chunk per network read that fits the learned template, is handled in
    the first lines of the loop; everything else goes through the SSE splitter and the full chunk reader.
    """
    parts = state.parts
    splitter = SseSplitter()
    template: Template | None = None
    tries = 0
    for chunk in chunks:
        if template is not None and not splitter.pending:
            text = template.read(chunk, template.event_head, template.event_tail)
            if text is not None:
                if text:
                    parts.append(text)
                    yield text
                continue
        for data in splitter.push(chunk):
            text = template.read(data, template.head, template.tail) if template is not None else None
            if text is None:
                text = state.feed(data)
                if text and tries <= 4 + len(parts) // _LEARN_EVERY and state.finish_reason is None:
                    tries += 1
                    template = learn(data) or template
            elif text:
                parts.append(text)
            if text:
                yield text
