"""The wire format on its own: SSE framing, usage dialects, errors inside a stream."""

from __future__ import annotations

import json

import pytest

from lingcode.events import Usage
from lingcode.model.wire import StreamState, WireError, parse_completion, parse_usage, sse_data


def test_sse_framing_joins_multi_line_data_and_skips_comments() -> None:
    lines = [": keep-alive", "", "data: a", "data:b", "", "event: ping", "data: [DONE]", "", "data: cut"]
    assert list(sse_data(lines)) == ["a\nb", "[DONE]"]


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
