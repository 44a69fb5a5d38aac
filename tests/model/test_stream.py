"""A stream's SSE bytes read into text: the template fast path must read just what a full parse reads."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingcode.config import ModelConfig
from lingcode.events import Usage
from lingcode.model import ModelClient, ServerInfo
from lingcode.model.stream import Template, learn, stream_text
from lingcode.model.wire import StreamState, WireError


def _event(choice_delta: dict[str, Any] | None, *, finish: str | None = None, **shape: Any) -> bytes:
    """One SSE event as a server writes it; shape: compact, ascii, extra (fields), stamp (per chunk)."""
    chunk: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk"}
    if shape.get("stamp") is not None:
        chunk["created"] = shape["stamp"]
    chunk["model"] = "m"
    choice: dict[str, Any] = {"index": 0, "delta": choice_delta or {}, **shape.get("extra", {})}
    choice["finish_reason"] = finish
    chunk["choices"] = [choice] if choice_delta is not None else []
    if choice_delta is None:
        chunk["usage"] = {"prompt_tokens": 3, "completion_tokens": 2}
    compact = shape.get("compact", False)
    text = json.dumps(
        chunk, separators=(",", ":") if compact else None, ensure_ascii=shape.get("ascii", True)
    )
    return b"data: " + text.encode() + b"\n\n"


def _stream(contents: list[str], **shape: Any) -> bytes:
    events = [_event({"role": "assistant", "content": ""}, **shape)]
    for i, content in enumerate(contents):
        events.append(
            _event({"content": content}, **{**shape, "stamp": i // 3 if "stamp" in shape else None})
        )
    events += [_event({}, finish="stop", **shape), _event(None, **shape), b"data: [DONE]\n\n"]
    return b"".join(events)


@settings(max_examples=200, deadline=None)
@given(
    contents=st.lists(st.text(max_size=6), max_size=30),
    compact=st.booleans(),
    ascii_only=st.booleans(),
    extra=st.sampled_from([{}, {"logprobs": None}]),
    stamped=st.booleans(),
    piece=st.sampled_from([0, 1, 7, 64]),
)
def test_every_chunk_reads_as_a_full_parse_reads_it(
    contents: list[str], compact: bool, ascii_only: bool, extra: dict[str, Any], stamped: bool, piece: int
) -> None:
    shape: dict[str, Any] = {"compact": compact, "ascii": ascii_only, "extra": extra}
    if stamped:
        shape["stamp"] = 0  # a server that stamps chunks with the time: the shape changes now and then
    body = _stream(contents, **shape)
    # whole events per read (the usual case), or the bytes split anywhere
    pieces = body.split(b"\n\n") if piece == 0 else [body[i : i + piece] for i in range(0, len(body), piece)]
    if piece == 0:
        pieces = [p + b"\n\n" for p in pieces[:-1]]
    state = StreamState()
    assert list(stream_text(pieces, state)) == [c for c in contents if c]
    assert state.text == "".join(contents)
    assert state.finish_reason == "stop" and state.done and state.usage == Usage(3, 2, 0)


def _learned(content: str = "abc") -> tuple[bytes, bytes]:
    """The bytes around the content string of a chunk that makes a template."""
    data = _event({"content": content})[6:-2]
    template = learn(data)
    assert template is not None
    return template.head, template.tail


def _read_in_full(events: list[bytes]) -> list[str] | str:
    """What the full chunk reader makes of whole events: the texts, or the error's message."""
    state, texts = StreamState(), []
    try:
        for event in events:
            texts.append(state.feed(event[6:-2]))
    except WireError as exc:
        return str(exc)
    return [t for t in texts if t]


def _read_streamed(events: list[bytes]) -> list[str] | str:
    try:
        return list(stream_text(events, StreamState()))
    except WireError as exc:
        return str(exc)


@pytest.mark.parametrize(
    "inside",
    [
        b"a\x01b",  # a raw control character is not JSON
        b'a"b',  # a quote that ends the string early
        b"a\\qb",  # an escape JSON does not have
        b"a\\u12",
        b"a\\",
        b"x\xffy",  # not UTF-8
        b"\xe2\x82",  # a character cut short
    ],
)
def test_chunks_that_fit_the_template_but_are_odd_read_as_in_full(inside: bytes) -> None:
    head, tail = _learned()
    good = b"data: " + head + b'abc"' + tail + b"\n\n"
    odd = b"data: " + head + inside + b'"' + tail + b"\n\n"
    events = [good, good, odd, good]
    assert _read_streamed(events) == _read_in_full(events)
    assert _read_in_full([odd]) != ["abc"]  # the case is not trivially the good one


@pytest.mark.parametrize("inside", [b'a", "content": "b', b'a\\n", "content": "b'])
def test_the_template_reads_only_a_string_that_ends_where_its_tail_starts(inside: bytes) -> None:
    # here JSON keeps the second "content"; a template that stopped at the first quote would read "a"
    head, tail = _learned()
    assert Template.read(head + inside + b'"' + tail, head, tail) is None
    assert Template.read(head + b'a\\nb"' + tail, head, tail) == "a\nb"


def test_escapes_are_read_by_the_fast_path_too() -> None:
    text = 'line\n\t"quoted" \\ \u00e9\U0001f600'
    good, escaped = _event({"content": "x"}), _event({"content": text})
    assert list(stream_text([good, escaped, escaped], StreamState())) == ["x", text, text]


@pytest.mark.parametrize(
    "chunk",
    [
        {"choices": [{"delta": {"content": "x"}, "finish_reason": "stop"}]},  # finishing changes state
        {"choices": [{"delta": {"content": "x"}, "finish_reason": None}], "usage": {"prompt_tokens": 1}},
        {"choices": [{"delta": {"content": "x"}}, {"delta": {"content": "y"}}]},  # two "content" keys
        {"choices": [{"delta": {"content": "x"}}], "error": {"message": "boom"}},
        {"choices": [{"delta": {"content": "x", "role": "assistant"}}], "x": "\u00e9"},  # a tail not ASCII
        {"choices": [{"delta": {"tool": {"content": "x"}}}]},  # a "content" that is not the reply's
    ],
)
def test_shapes_that_make_no_template(chunk: dict[str, Any]) -> None:
    assert learn(json.dumps(chunk, ensure_ascii=False).encode()) is None


def test_a_pretty_printed_chunk_makes_no_template() -> None:
    chunk = {"choices": [{"delta": {"content": "x"}, "finish_reason": None}]}
    assert learn(json.dumps(chunk, indent=1).encode()) is None
    assert learn(json.dumps(chunk).encode()) is not None


class _GzipSse(http.server.BaseHTTPRequestHandler):
    """A server that compresses its event stream, as some proxies in front of a model server do."""

    body = gzip.compress(_stream(["Hel", "lo"]))

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_compressed_stream_is_decoded() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GzipSse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    info = ServerInfo(model="m", context_window=4096, supports_grammar=False, engine="openai")
    try:
        with ModelClient(ModelConfig(), f"http://127.0.0.1:{server.server_port}/v1", info=info) as client:
            deltas: list[str] = []
            reply = client.complete([{"role": "user", "content": "hi"}], on_delta=deltas.append)
    finally:
        server.shutdown()
        server.server_close()
    assert deltas == ["Hel", "lo"] and reply.text == "Hello" and reply.finish_reason == "stop"
