"""The embedded server's state file: reuse, stale records, and `serve --stop` never killing a stranger.

The stand-in server is the scripted server in its own process with `llama_cpp.server` on its command line,
which is how lingcode recognises its embedded server's process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.config import Config, ModelConfig
from lingcode.model import open_model
from lingcode.model.embedded import ServerState, read_state, running_server, state_path, write_state
from lingcode.model.process import pid_alive

CODE = "import sys; from lingcode.model.scripted import main; sys.exit(main(sys.argv[2:]))"


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], ServerState]]:
    """A recorded, healthy 'embedded server' (detached) in a process group of its own."""
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["hello from the stand-in"]))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CODE,
            "llama_cpp.server",
            "--script",
            str(script),
            "--engine",
            "llama-cpp-python",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    state = ServerState(
        child.pid, int(url.rsplit(":", 1)[1].split("/")[0]), str(tmp_path / "m.gguf"), url, 1024
    )
    write_state(state)
    yield child, state
    if child.poll() is None:
        child.kill()
    child.wait(timeout=10)
    child.stdout.close()


def test_a_healthy_recorded_server_is_found(stand_in: tuple[subprocess.Popen[str], ServerState]) -> None:
    _, state = stand_in
    assert running_server() == state
    assert running_server(Path(state.model_path)) == state
    assert running_server(Path("/elsewhere/other.gguf")) is None


def test_serve_stop_ends_it_and_forgets_it(
    stand_in: tuple[subprocess.Popen[str], ServerState], capsys: pytest.CaptureFixture[str]
) -> None:
    child, state = stand_in
    assert run_cli(["serve", "--stop"]) == 0
    assert f"stopped the embedded model server (pid {state.pid})" in capsys.readouterr().err
    assert child.wait(timeout=10) is not None and read_state() is None


def test_a_pid_reused_by_another_program_is_never_killed(capsys: pytest.CaptureFixture[str]) -> None:
    # the record names this very test process: alive, but not a llama.cpp server
    write_state(ServerState(os.getpid(), 1, "m.gguf", "http://127.0.0.1:1/v1", 1024))
    assert running_server() is None
    assert run_cli(["serve", "--stop"]) == 0
    assert "no embedded server is running" in capsys.readouterr().err
    assert pid_alive(os.getpid()) and not state_path().exists()


def test_a_dead_server_is_forgotten(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_state(ServerState(gone.pid, 1, "m.gguf", "http://127.0.0.1:1/v1", 1024))
    assert running_server() is None
    assert run_cli(["serve", "--stop"]) == 0 and read_state() is None


def test_open_model_with_a_url_talks_to_it_directly(
    stand_in: tuple[subprocess.Popen[str], ServerState],
) -> None:
    _, state = stand_in
    config = Config(model=ModelConfig(base_url=state.base_url))
    with open_model(config) as client:
        assert client.complete([{"role": "user", "content": "hi"}]).text == "hello from the stand-in"
        assert client.info().engine == "llama-cpp-python"


def test_a_run_whose_embedded_server_died_says_so_and_names_the_fix(
    stand_in: tuple[subprocess.Popen[str], ServerState], tmp_path: Path
) -> None:
    # llama.cpp that crashes mid-run looks, to the client, like a refused connection: the run's end says
    # the embedded server exited and how to replace a native build that crashes on this CPU
    from lingcode.loop.agent import Agent
    from tests.conftest import git
    from tests.loop.helpers import FILES, QUICK, make_config

    child, state = stand_in
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    for name, text in FILES.items():
        (root / name).write_text(str(text), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "calc")
    config = make_config(test_cmd=QUICK)
    config.model.max_retries = 0
    config.model.base_url = state.base_url  # the URL `lingcode serve --detach` printed
    with open_model(config) as client:
        client.info()  # discovered while the server lived
        child.kill()
        child.wait(timeout=10)
        result = Agent(config, client, root, lambda event: None).run("fix the failing test")
    assert result.status == "model_unavailable", result.message
    assert "the embedded llama.cpp server exited" in result.message
    assert "scripts/ensure-llama.sh" in result.message


def test_no_hint_while_the_embedded_server_lives(stand_in: tuple[subprocess.Popen[str], ServerState]) -> None:
    from lingcode.model.embedded import exited_hint

    _, state = stand_in
    assert exited_hint(state.base_url) == ""
    assert exited_hint("http://127.0.0.1:9/v1") == ""  # not the embedded server at all
