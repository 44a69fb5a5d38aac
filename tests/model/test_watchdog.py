"""One watcher thread serves every request: concurrent requests' deadlines must not wait on each other."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from lingcode.errors import ModelUnavailable
from lingcode.model.scripted import Fault, ScriptedReply
from tests.model.helpers import MESSAGES, fast_config, scripted_client


def _in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run call() in a thread; its result or exception lands in the returned list."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(call())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_nearer_deadline_wakes_a_watcher_sleeping_on_a_far_one() -> None:
    slow_config = fast_config(first_token_timeout=30.0, max_retries=0)
    quick_config = fast_config(first_token_timeout=0.3, max_retries=0)
    with (
        scripted_client([Fault("stall", text="", stall_s=1.5)], slow_config) as (_, slow),
        scripted_client([Fault("stall", text="", stall_s=10)], quick_config) as (_, quick),
    ):
        slow.info(), quick.info()  # discovery first, so only the completions race
        far, far_out = _in_thread(lambda: slow.complete(MESSAGES, on_delta=lambda _: None))
        time.sleep(0.2)  # the watcher now sleeps until the far deadline, 30 s away
        started = time.monotonic()
        with pytest.raises(ModelUnavailable, match=r"sent no reply within 0\.3s"):
            quick.complete(MESSAGES, on_delta=lambda _: None)
        assert time.monotonic() - started < 2
        far.join(10)
    # the far request was not cut off by its neighbour's deadline: it ended when its server hung up
    assert isinstance(far_out[0], ModelUnavailable)
    assert "closed the connection before any reply text" in str(far_out[0])


def test_a_stall_is_caught_while_another_stream_keeps_flowing() -> None:
    steady = ScriptedReply("y" * 60, chunk_delay_s=0.02)
    with (
        scripted_client([steady], fast_config(idle_timeout=0.5)) as (_, flowing),
        scripted_client([Fault("stall", text="half", stall_s=10)], fast_config(idle_timeout=0.3)) as (
            _,
            stuck,
        ),
    ):
        thread, out = _in_thread(lambda: flowing.complete(MESSAGES, on_delta=lambda _: None))
        started = time.monotonic()
        with pytest.raises(ModelUnavailable, match=r"after 4 characters: it went silent for 0\.3s"):
            stuck.complete(MESSAGES, on_delta=lambda _: None)
        assert time.monotonic() - started < 2
        thread.join(10)
    reply = out[0]
    assert not isinstance(reply, Exception), reply
    assert getattr(reply, "text", None) == "y" * 60
