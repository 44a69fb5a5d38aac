"""ModelClient against the scripted server over real HTTP: replies, usage, retries, faults and cancel."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from lingcode.errors import ConfigError, ExitCode, ModelUnavailable
from lingcode.events import Usage
from lingcode.model import ModelClient
from lingcode.model.scripted import Fault, ScriptedReply, ScriptItem
from tests.model.helpers import MESSAGES, fast_config, scripted_client


def _complete(client: ModelClient, stream: bool = True, **kwargs: Any) -> str:
    deltas: list[str] = []
    reply = client.complete(MESSAGES, on_delta=deltas.append if stream else None, **kwargs)
    if stream:
        assert "".join(deltas) == reply.text
    return reply.text


def test_non_streaming_reply_and_the_request_it_sent() -> None:
    with scripted_client(["Hello there."], fast_config(max_tokens=64)) as (server, client):
        reply = client.complete(MESSAGES)
    assert (reply.text, reply.finish_reason, reply.truncated) == ("Hello there.", "stop", False)
    assert reply.usage == Usage(prompt_tokens=7, completion_tokens=3)
    assert server.requests == [
        {
            "model": "scripted-model",
            "messages": MESSAGES,
            "temperature": 0.0,
            "max_tokens": 64,
            "stream": False,
        }
    ]


def test_a_configured_seed_goes_out_with_each_request() -> None:
    with scripted_client(["one", "two"], fast_config(seed=7)) as (server, client):
        client.complete(MESSAGES)
        client.complete(MESSAGES, on_delta=lambda _: None)
    assert [r["seed"] for r in server.requests] == [7, 7]


def test_streaming_delivers_deltas_and_asks_for_usage() -> None:
    with scripted_client(["Hello there, world."]) as (server, client):
        deltas: list[str] = []
        reply = client.complete(MESSAGES, on_delta=deltas.append, max_tokens=7)
    assert "".join(deltas) == reply.text == "Hello there, world." and len(deltas) == 5
    assert server.requests[0]["stream"] is True and server.requests[0]["max_tokens"] == 7
    assert server.requests[0]["stream_options"] == {"include_usage": True}
    assert reply.usage.completion_tokens == 5 and 0 < reply.ttft_s <= reply.duration_s
    assert reply.tokens_per_s > 0


@pytest.mark.parametrize("stream", [True, False])
def test_finish_reason_length_is_surfaced(stream: bool) -> None:
    with scripted_client([ScriptedReply("cut sh", finish_reason="length")]) as (_, client):
        reply = client.complete(MESSAGES, on_delta=(lambda _: None) if stream else None)
    assert reply.finish_reason == "length" and reply.truncated and reply.text == "cut sh"


@pytest.mark.parametrize("engine", ["vllm", "llama-cpp"])
@pytest.mark.parametrize("stream", [True, False])
def test_cached_prompt_tokens_in_either_dialect(engine: str, stream: bool) -> None:
    usage = Usage(prompt_tokens=120, completion_tokens=4, cached_tokens=96)
    with scripted_client([ScriptedReply("four", usage=usage)], engine=engine) as (_, client):
        reply = client.complete(MESSAGES, on_delta=(lambda _: None) if stream else None)
    assert reply.usage == usage


def test_retries_5xx_and_429_with_backoff_then_succeeds() -> None:
    script: list[ScriptItem] = [Fault("status", status=503), Fault("status", status=429, retry_after=0), "ok"]
    notes: list[str] = []
    with (
        scripted_client(script) as (server, _),
        ModelClient(fast_config(), server.base_url, progress=notes.append) as client,
    ):
        reply = client.complete(MESSAGES)
    assert reply.text == "ok" and len(server.requests) == 3
    assert "HTTP 503: injected fault; retrying in 0.0s" in notes[0] and "HTTP 429" in notes[1]


def test_gives_up_after_max_retries_with_one_clear_line() -> None:
    script = [Fault("status", status=500, message="CUDA out of memory")] * 5
    with (
        scripted_client(script, fast_config(max_retries=2)) as (server, client),
        pytest.raises(ModelUnavailable) as caught,
    ):
        client.complete(MESSAGES)
    assert len(server.requests) == 3
    assert str(caught.value) == (
        f"the model server at {server.base_url} answered HTTP 500: CUDA out of memory (tried 3 times)"
    )
    assert caught.value.exit_code == ExitCode.MODEL_UNAVAILABLE


def test_exhausted_script_reads_as_a_server_error() -> None:
    with (
        scripted_client([], fast_config(max_retries=0)) as (_, client),
        pytest.raises(ModelUnavailable, match="HTTP 500: script exhausted \\(tried once\\)"),
    ):
        client.complete(MESSAGES)


@pytest.mark.parametrize("stream", [True, False])
def test_a_drop_before_any_text_is_retried(stream: bool) -> None:
    with scripted_client([Fault("drop_mid_stream", text=""), "second try"]) as (server, client):
        assert _complete(client, stream) == "second try"
    assert len(server.requests) == 2


@pytest.mark.parametrize("kind", ["drop_mid_stream", "truncated_final"])
def test_a_stream_broken_after_text_is_reported_not_used(kind: Any) -> None:
    with (
        scripted_client([Fault(kind, text="def f():"), "unused"]) as (server, client),
        pytest.raises(ModelUnavailable) as caught,
    ):
        _complete(client)
    assert len(server.requests) == 1
    assert "broke off its reply after 8 characters" in str(caught.value)
    assert "the partial reply was discarded" in str(caught.value)


@pytest.mark.parametrize("stream", [True, False])
def test_malformed_json_is_one_clear_error(stream: bool) -> None:
    with (
        scripted_client([Fault("malformed_json", text="")]) as (_, client),
        pytest.raises(ModelUnavailable) as caught,
    ):
        _complete(client, stream)
    assert str(caught.value).startswith("the model server at http://127.0.0.1:")
    assert "sent malformed JSON in " in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("stream", [True, False])
def test_no_first_token_in_time(stream: bool) -> None:
    with scripted_client([Fault("stall", text="", stall_s=10)], fast_config(first_token_timeout=0.3)) as (
        s,
        c,
    ):
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as caught:
            _complete(c, stream)
    assert time.monotonic() - started < 3
    assert (
        str(caught.value)
        == f"the model server at {s.base_url} sent no reply within 0.3s (model.first_token_timeout)"
    )


def test_a_stream_that_goes_silent_mid_reply() -> None:
    with (
        scripted_client([Fault("stall", text="half a", stall_s=10)], fast_config(idle_timeout=0.3)) as (
            _,
            c,
        ),
        pytest.raises(ModelUnavailable, match=r"after 6 characters: it went silent for 0.3s"),
    ):
        _complete(c)


def test_nothing_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        url = f"http://127.0.0.1:{port}/v1"
        with (
            ModelClient(fast_config(max_retries=1), url) as client,
            pytest.raises(ModelUnavailable) as caught,
        ):
            client.complete(MESSAGES)
    assert str(caught.value) == (
        f"cannot connect to the model server at {url}: connection refused (tried 2 times); "
        "start one with `lingcode serve` or set model.base_url"
    )


@pytest.mark.parametrize(("status", "hint"), [(401, "check model.api_key"), (404, "check model.base_url")])
def test_refusals_are_config_errors(status: int, hint: str) -> None:
    with (
        scripted_client([Fault("status", status=status)]) as (server, client),
        pytest.raises(ConfigError) as caught,
    ):
        client.complete(MESSAGES)
    assert hint in str(caught.value) and caught.value.exit_code == ExitCode.USAGE
    assert len(server.requests) == 1


def test_api_key_is_sent_as_bearer_token() -> None:
    with scripted_client(["ok"], fast_config(api_key="s3cret")) as (server, client):
        assert client.complete(MESSAGES).text == "ok"
    assert server.auth_headers == ["Bearer s3cret"]


def test_cancel_stops_a_stream_promptly_with_what_arrived() -> None:
    cancel = threading.Event()
    deltas: list[str] = []

    def on_delta(text: str) -> None:
        deltas.append(text)
        if len(deltas) == 2:
            cancel.set()

    with scripted_client([ScriptedReply("x" * 400, chunk_delay_s=0.05)]) as (_, client):
        reply = client.complete(MESSAGES, on_delta=on_delta, cancel=cancel)
    assert reply.finish_reason == "cancelled" and reply.text == "x" * 8 and reply.duration_s < 1


def test_cancel_wakes_a_read_blocked_on_a_silent_server() -> None:
    cancel = threading.Event()
    with scripted_client([Fault("stall", text="wait", stall_s=10)]) as (_, client):
        threading.Timer(0.2, cancel.set).start()
        reply = client.complete(MESSAGES, on_delta=lambda _: None, cancel=cancel)
    assert reply.finish_reason == "cancelled" and reply.text == "wait" and reply.duration_s < 1.5


def test_cancel_during_retry_backoff() -> None:
    cancel = threading.Event()
    with scripted_client([Fault("status", status=503, retry_after=20)]) as (_, client):
        threading.Timer(0.2, cancel.set).start()
        reply = client.complete(MESSAGES, cancel=cancel)
    assert reply.finish_reason == "cancelled" and reply.duration_s < 2
