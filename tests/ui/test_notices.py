"""Errors become notices that say what to do next, never tracebacks; the status line shows the numbers."""

from __future__ import annotations

import pytest

from lingcode import errors
from lingcode.events import ModelReplied, Usage
from lingcode.ui.metrics import Metrics
from lingcode.ui.notices import describe


@pytest.mark.parametrize(
    ("error", "hint_says"),
    [
        (errors.ModelUnavailable("cannot reach http://127.0.0.1:9/v1"), "lingcode serve"),
        (errors.ConfigError("config.toml: loop.test_cmd: not allowed"), "restart"),
        (errors.EditsRejected("SEARCH text not found in calc.py"), "Nothing was changed"),
        (errors.TimeoutReached("tests ran past 300s"), "test_timeout"),
    ],
)
def test_lingcode_errors_carry_their_message_and_a_next_step(
    error: errors.LingcodeError, hint_says: str
) -> None:
    notice = describe(error)
    assert notice.level == "error"
    assert notice.message == error.message
    assert hint_says in notice.hint


def test_a_bug_is_one_line_too() -> None:
    notice = describe(KeyError("boom"))
    assert notice.message == "internal error: KeyError: 'boom'"
    assert "\n" not in notice.message and "Traceback" not in notice.message


def test_metrics_render_speed_cache_and_usage() -> None:
    metrics = Metrics(model="gemma-3-270m", server="127.0.0.1:8080")
    assert "– tok/s" in metrics.render(0)
    metrics.record(ModelReplied("hi", Usage(1000, 200, 250), "stop", ttft_s=0.25, tokens_per_s=41.5))
    metrics.record(ModelReplied("hi", Usage(1000, 100, 750), "stop", ttft_s=0.5, tokens_per_s=40.0))
    line = metrics.render(75)
    assert "[b]gemma-3-270m[/b] @ 127.0.0.1:8080" in line
    assert "40.0 tok/s" in line and "TTFT 0.50s" in line and "cache 75%" in line
    assert "2,300 tok" in line and "01:15" in line


def test_hidden_timings_keep_snapshots_stable() -> None:
    metrics = Metrics(show_timings=False)
    metrics.record(ModelReplied("hi", Usage(10, 5, 0), "stop", ttft_s=0.123, tokens_per_s=99.0))
    line = metrics.render(0)
    assert "– tok/s" in line and "TTFT –" in line and "99" not in line


def test_speed_and_ttft_are_live_while_streaming() -> None:
    metrics = Metrics()
    metrics.start_turn(10.0)
    metrics.delta(10.5)
    assert metrics.ttft_s == 0.5 and metrics.tokens_per_s is None
    for step in range(1, 21):
        metrics.delta(10.5 + step * 0.05)
    assert metrics.tokens_per_s is not None and abs(metrics.tokens_per_s - 20.0) < 1e-6
    assert "20.0 tok/s" in metrics.render(1) and "TTFT 0.50s" in metrics.render(1)
    metrics.record(ModelReplied("x", Usage(10, 21, 0), "stop", ttft_s=0.45, tokens_per_s=19.5))
    metrics.delta(30.0)  # a turn the loop started: no TTFT guess, the last one stays
    assert metrics.ttft_s == 0.45
