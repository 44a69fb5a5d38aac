"""The real embedded llama.cpp server and the real Gemma 3 270M: start, complete, stream, grammar, stop.

The model is assembled once per session into a temporary cache (or, with LINGCODE_TEST_KEEP_CACHE set, into
the real cache's models/ folder, so later sessions skip it); server state stays in the temporary cache, so a
server the user runs is never touched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.config import Config, ModelConfig, ServeConfig, cache_home
from lingcode.model import Constraint, open_model
from lingcode.model.embedded import SHIPPED_ADAPTER, ServerState, ensure_embedded, read_state
from lingcode.model.process import is_healthy, pid_alive

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed (pip install 'lingcode[local]')",
    ),
]

CTX = 2048
_SHIPPED_SHA = hashlib.sha256((SHIPPED_ADAPTER / "adapter.gguf").read_bytes()).hexdigest()
SERVED = f"gemma-3-270m-q4_k_m+lora-{_SHIPPED_SHA[:12]}"
"""What the embedded default serves when the user has no adapter: the base with the one lingcode ships."""
MESSAGES = [{"role": "user", "content": "Count from 1 to 10, separated by spaces."}]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """XDG_CACHE_HOME for these tests: fresh, its models/ shared with the real cache when asked to keep it."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    if os.environ.get("LINGCODE_TEST_KEEP_CACHE"):
        kept = cache_home() / "models"  # still the real environment: session fixtures run before isolation
        kept.mkdir(parents=True, exist_ok=True)
        (cache / "lingcode").mkdir()
        (cache / "lingcode" / "models").symlink_to(kept, target_is_directory=True)
    return cache


@pytest.fixture(scope="session")
def server(model_cache: Path) -> Iterator[ServerState]:
    """The embedded server, started detached once for the session and stopped at its end.

    Session fixtures run before conftest isolates HOME: the data home is pointed at an empty folder here, so
    an adapter the user installed as the default is not served (the tests' own sessions would not see it).
    """
    # the variables are set around the start and the stop only: held across the yield they would leak into
    # every later test module of the session (whose own fixtures set them per test where they need them)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(model_cache))
        patch.setenv("XDG_DATA_HOME", str(model_cache.parent / "xdg-data-empty"))
        state = ensure_embedded(ServeConfig(ctx_size=CTX), progress=print)
    yield state
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(model_cache))
        run_cli(["serve", "--stop"])


@pytest.fixture(autouse=True)
def shared_cache(isolated_home: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here sees the session's cache (after conftest isolated the rest of HOME)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(model_cache))


def _config() -> Config:
    return Config(serve=ServeConfig(ctx_size=CTX), model=ModelConfig(max_tokens=24))


def test_open_model_reuses_the_running_server(server: ServerState) -> None:
    notes: list[str] = []
    with open_model(_config(), notes.append) as client:
        info = client.info()
        assert client.base_url == server.base_url
    shipped, using = notes
    assert shipped.startswith("serving the adapter that ships with lingcode ") and shipped.endswith(
        "; --no-lora serves the base model"
    )
    assert using == f"using the embedded model server at {server.base_url} (pid {server.pid})"
    assert (info.engine, info.context_window, info.supports_grammar) == ("llama-cpp-python", CTX, True)
    assert info.model == SERVED


def test_complete_without_streaming(server: ServerState) -> None:
    with open_model(_config()) as client:
        reply = client.complete(MESSAGES, max_tokens=12)
        assert client.count_tokens("def add(a, b):\n    return a + b\n") in range(5, 40)
    assert reply.text.strip() and reply.finish_reason in ("stop", "length")
    assert 0 < reply.usage.completion_tokens <= 12 and reply.usage.prompt_tokens > 0


def test_stream(server: ServerState) -> None:
    deltas: list[str] = []
    with open_model(_config()) as client:
        reply = client.complete(MESSAGES, on_delta=deltas.append, max_tokens=12)
    assert len(deltas) > 1 and "".join(deltas) == reply.text and reply.text.strip()
    assert 0 < reply.ttft_s < reply.duration_s and reply.tokens_per_s > 0


def test_grammar_constrains_the_reply(server: ServerState) -> None:
    grammar = Constraint('root ::= ("yes" | "no") " " [0-9]')
    with open_model(_config()) as client:
        reply = client.complete(
            [{"role": "user", "content": "Is the sea blue? Then a digit."}], constraint=grammar
        )
    assert reply.text in {f"{word} {digit}" for word in ("yes", "no") for digit in range(10)}


def test_doctor_json_reports_a_measured_speed(
    server: ServerState, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["-c", f"serve.ctx_size={CTX}", "doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["base_url"] == server.base_url and report["engine"] == "llama-cpp-python"
    assert report["model"] == SERVED and report["context_window"] == CTX
    assert report["grammar_works"] is True
    assert report["completion_tokens"] > 0 and report["tokens_per_s"] > 0 and report["ttft_s"] > 0


def test_serve_stop_ends_the_detached_server(server: ServerState, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["serve", "--stop"]) == 0
    assert f"stopped the embedded model server (pid {server.pid})" in capsys.readouterr().err
    assert not pid_alive(server.pid) and read_state() is None and not is_healthy(server.base_url)


def test_foreground_serve_prints_the_url_and_stops_on_sigterm(server: ServerState) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lingcode", "serve", "--ctx-size", "512"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and is_healthy(url)
        state = read_state()
        assert state is not None and state.base_url == url and not state.detached
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
    assert not is_healthy(url) and not pid_alive(state.pid) and read_state() is None
    assert "stopped" in stderr and "Traceback" not in stderr
