"""`lingcode doctor` through the real CLI against the scripted server: the report, and every injected fault
as one clear line with exit code 3."""

from __future__ import annotations

import json
import socket

import pytest

from lingcode.cli import run_cli
from lingcode.model.scripted import Fault, ScriptedServer, ScriptItem

FAST = ["-c", "model.retry_backoff=0", "-c", "model.first_token_timeout=0.5", "-c", "model.idle_timeout=0.5"]


def test_json_report_with_measured_speed(capsys: pytest.CaptureFixture[str]) -> None:
    with ScriptedServer(["1 2 3 4 5 6 7 8 9 10", "yes"], context_window=4096) as server:
        code = run_cli(["doctor", "--json", "--model-url", server.base_url, "--model", "tiny"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["ok"] is True and report["base_url"] == server.base_url
    assert (report["engine"], report["model"], report["context_window"]) == ("llama-cpp", "tiny", 4096)
    assert report["supports_grammar"] is True and report["grammar_works"] is True
    assert report["completion_tokens"] > 0 and report["tokens_per_s"] > 0 and report["ttft_s"] > 0
    assert server.requests[0]["model"] == "tiny" and server.requests[0]["stream"] is True
    assert server.requests[1]["grammar"] == 'root ::= "yes" | "no"'


def test_text_report_without_grammar(capsys: pytest.CaptureFixture[str]) -> None:
    with ScriptedServer(["hello world"], engine="openai") as server:
        assert run_cli(["doctor", "--model-url", server.base_url]) == 0
    out = capsys.readouterr().out
    assert "grammar         not supported" in out and "context window  4096 tokens" in out
    assert len(server.requests) == 1


FAULTS: list[tuple[str, list[ScriptItem], str]] = [
    ("drop", [Fault("drop_mid_stream", text="1 2 3")], "broke off its reply after 5 characters"),
    ("drop-early", [Fault("drop_mid_stream", text="")] * 2, "closed the connection before any reply text"),
    ("truncated", [Fault("truncated_final", text="1 2")], "broke off its reply after 3 characters"),
    ("malformed", [Fault("malformed_json", text="")], "sent malformed JSON in a stream chunk"),
    ("stall", [Fault("stall", text="", stall_s=10)], "sent no reply within 0.5s (model.first_token_timeout)"),
    ("stall-mid", [Fault("stall", text="1 2", stall_s=10)], "went silent for 0.5s (model.idle_timeout)"),
    ("500", [Fault("status", status=500)] * 2, "answered HTTP 500: injected fault (tried 2 times)"),
    (
        "429",
        [Fault("status", status=429, retry_after=0)] * 2,
        "answered HTTP 429: injected fault (tried 2 times)",
    ),
    ("exhausted", [], "answered HTTP 500: script exhausted"),
]


@pytest.mark.parametrize(("script", "message"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_every_fault_is_one_line_and_exit_3(
    script: list[ScriptItem], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with ScriptedServer(script) as server:
        code = run_cli(
            [*FAST, "-c", "model.max_retries=1", "doctor", "--json", "--model-url", server.base_url]
        )
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 3
    assert message in lines[-1] and lines[-1].startswith("lingcode: the model server at ")
    assert all(line.startswith("lingcode: ") for line in lines) and "Traceback" not in captured.err
    assert json.loads(captured.out) == {
        "ok": False,
        "error": lines[-1].removeprefix("lingcode: "),
        "exit_code": 3,
    }


def test_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        code = run_cli([*FAST, "-c", "model.max_retries=0", "doctor", "--model-url", url])
    assert code == 3
    assert capsys.readouterr().err.strip().splitlines() == [
        f"lingcode: cannot connect to the model server at {url}: connection refused (tried once); "
        "start one with `lingcode serve` or set model.base_url"
    ]
