"""The wire format on its own: SSE framing, usage dialects, errors inside a stream."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingcode.events import Usage
from lingcode.model.wire import StreamState, WireError, fast_content, parse_completion, parse_usage, sse_data


def test_sse_framing_joins_multi_line_data_and_skips_comments() -> None:
    stream = b': keep-alive\n\ndata: a\ndata:b\n\nevent: ping\ndata: [DONE]\n\ndata: {"x": 1}\n\ndata: cut'
    for size in (1, 2, 3, 7, len(stream)):  # however the bytes arrive
        pieces = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert list(sse_data(pieces)) == [b"a\nb", b"[DONE]", b'{"x": 1}']


def test_sse_framing_with_crlf_line_ends_split_anywhere() -> None:
    stream = b"data: one\r\n\r\ndata: two\r\n\r\n"
    for size in (1, 2, 5):
        pieces = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert list(sse_data(pieces)) == [b"one", b"two"]


U = {"prompt_tokens": 12, "completion_tokens": 3}


@pytest.mark.parametrize(
    ("payload", "usage"),
    [
        ({"usage": {**U, "prompt_tokens_details": {"cached_tokens": 5}}}, Usage(12, 3, 5)),
        ({"timings": {"cache_n": 40, "prompt_n": 2, "predicted_n": 7}}, Usage(42, 7, 40)),
        ({"usage": U, "timings": {"cache_n": 10}}, Usage(12, 3, 10)),
        ({"usage": U, "tokens_cached": 8}, Usage(12, 3, 8)),
        ({"usage": {**U, "prompt_tokens_details": None}}, Usage(12, 3, 0)),
        ({"choices": []}, None),
    ],
)
def test_usage_dialects(payload: dict[str, object], usage: Usage | None) -> None:
    assert parse_usage(payload) == usage


def test_an_error_event_inside_a_stream_is_reported() -> None:
    state = StreamState()
    state.feed(json.dumps({"choices": [{"delta": {"content": "Hi"}, "finish_reason": None}]}))
    with pytest.raises(WireError, match="reported an error: out of memory"):
        state.feed(json.dumps({"error": {"message": "out of\nmemory", "code": 500}}))
    assert state.text == "Hi" and not state.complete


def test_a_finish_reason_without_done_counts_as_complete() -> None:
    state = StreamState()
    state.feed(json.dumps({"choices": [{"delta": {"content": "ok"}, "finish_reason": "length"}]}))
    assert state.complete and state.finish_reason == "length" and not state.done


def test_completion_without_a_message_is_a_wire_error() -> None:
    with pytest.raises(WireError, match="sent a reply without a message"):
        parse_completion(b'{"choices": []}')


@settings(max_examples=300, deadline=None)
@given(
    content=st.text(),
    role=st.sampled_from([None, "assistant"]),
    compact=st.booleans(),
    extra=st.sampled_from([{}, {"logprobs": None}, {"reasoning_content": '"content": "x"'}]),
)
def test_the_fast_path_reads_what_a_full_parse_reads(
    content: str, role: str | None, compact: bool, extra: dict[str, object]
) -> None:
    delta: dict[str, object] = {"content": content} if role is None else {"role": role, "content": content}
    chunk = {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "delta": {**extra, **delta}, "finish_reason": None}],
    }
    text = json.dumps(chunk, separators=(",", ":") if compact else None, ensure_ascii=compact)
    # the fast path may decline (braces in the text), but never reads something else
    assert fast_content(text) in (content, None)
    if not set(content) & set("{}[]"):
        assert fast_content(text) == content
    full, fast = StreamState(), StreamState()
    assert full.feed(text + " ") == fast.feed(text) == content  # a trailing space forces the full parse


@pytest.mark.parametrize(
    "chunk",
    [
        {"choices": [{"delta": {"content": "x"}, "finish_reason": "stop"}]},
        {"choices": [{"delta": {"content": "x"}, "finish_reason": None}], "usage": {"prompt_tokens": 1}},
        {"choices": [{"delta": {"content": None}, "finish_reason": None}]},
        {"choices": [{"delta": {"content": "x"}, "finish_reason": None}], "timings": {"cache_n": 1}},
    ],
)
def test_other_chunks_take_the_full_parse(chunk: dict[str, object]) -> None:
    assert fast_content(json.dumps(chunk)) is None


def test_a_cut_chunk_is_not_read_fast() -> None:
    text = json.dumps({"choices": [{"delta": {"content": "x"}, "finish_reason": None}]})
    assert fast_content(text[:-2]) is None
    with pytest.raises(WireError, match="malformed JSON"):
        StreamState().feed(text[:-2])
