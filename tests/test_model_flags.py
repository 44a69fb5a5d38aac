"""One set of model flags everywhere: every command that talks to a model, and bare `lingcode`, takes them."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from lingcode.cli import COMMANDS, run_cli
from lingcode.commands.common import MODEL_FLAGS
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.ui.harness import FILES, FIX

# Commands that never open a model client, each with why; every other command must take MODEL_FLAGS.
NO_MODEL: dict[str, str] = {
    "undo": "restores files from lingcode's own snapshot",
    "export-sft": "reads past run logs and writes a data file",
    "context": "ranks files locally; prints what would be sent, sends nothing",
    "map": "prints the ranked repository map, computed locally",
    "apply": "applies a reply read on stdin; no model is asked",
    "grammar": "prints the decoding grammar; no model is asked",
    "hook": "installs or removes a git hook; the hook itself runs `review`, which takes the flags",
    "serve": "starts a model server rather than talking to one (its --model names a GGUF file or model id)",
    "tune": "generates training data and trains locally; no server is asked",
}


def _commands() -> list[tuple[str, click.Command]]:
    """The bare group and every subcommand in COMMANDS, with subcommands of groups (tune data)."""
    from lingcode.commands.group import cli

    ctx = click.Context(cli)
    found: list[tuple[str, click.Command]] = [("", cli)]
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", command.commands[sub]) for sub in sorted(command.commands)]
    return found


def _options(command: click.Command) -> dict[str, str | None]:
    return {
        opt: param.help for param in command.params for opt in param.opts if isinstance(param, click.Option)
    }


def test_the_no_model_list_names_real_commands() -> None:
    assert set(NO_MODEL) <= set(COMMANDS)


@pytest.mark.parametrize("name, command", _commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_that_talks_to_a_model_takes_the_shared_flags(
    name: str, command: click.Command, capsys: pytest.CaptureFixture[str]
) -> None:
    if name.split(" ")[0] in NO_MODEL:
        return
    options = _options(command)
    for flag, _, _, help_text in MODEL_FLAGS:
        assert flag in options, f"`lingcode {name}` lacks {flag}"
        assert options[flag] == help_text, f"`lingcode {name}` {flag} has its own help text"
    assert run_cli([*name.split(), "--help"]) == 0
    shown = capsys.readouterr().out
    assert all(flag in shown for flag, *_ in MODEL_FLAGS)


def test_commands_that_talk_to_a_model_are_the_expected_ones() -> None:
    # a new command that talks to a model must either take the flags or justify itself in NO_MODEL
    assert set(COMMANDS) - set(NO_MODEL) == {"run", "review", "batch", "doctor"}


def test_run_model_url_sends_the_request_to_that_server(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX], model="scripted-model") as server:
        code = run_cli(
            [
                "run",
                "--model-url",
                server.base_url,
                "--model",
                "asked-for",
                "--root",
                str(root),
                "--test-cmd",
                "python3 -B run_tests.py",
                "--no-constrain",
                "fix add",
            ]
        )
    assert code == 0
    assert server.requests and server.requests[0]["model"] == "asked-for"


def test_model_url_before_the_subcommand_applies_to_it(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        code = run_cli(
            [
                "-c",
                "model.base_url=http://127.0.0.1:9/v1",  # nothing listens: a lost flag fails fast
                "--model-url",
                server.base_url,
                "--model",
                "before",
                "run",
                "--root",
                str(root),
                "--test-cmd",
                "python3 -B run_tests.py",
                "--no-constrain",
                "fix add",
            ]
        )
    assert code == 0
    assert server.requests and server.requests[0]["model"] == "before"


def test_the_subcommands_own_flag_wins_over_the_groups(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        code = run_cli(
            [
                "--model",
                "group",
                "run",
                "--model-url",
                server.base_url,
                "--model",
                "command",
                "--root",
                str(root),
                "--test-cmd",
                "python3 -B run_tests.py",
                "--no-constrain",
                "fix",
            ]
        )
    assert code == 0
    assert server.requests[0]["model"] == "command"


def test_bare_lingcode_model_url_opens_the_session_on_that_server(make_repo: GitRepoFactory) -> None:
    """The interactive session, in a real pseudo-terminal, probes and then asks the server it was given."""
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        master, slave = pty.openpty()
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": "100",
            "LINES": "30",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lingcode",
                "-c",
                "model.base_url=http://127.0.0.1:9/v1",  # nothing listens: a lost flag fails fast
                "--model-url",
                server.base_url,
                "--model",
                "bare",
                "--root",
                str(root),
                "-c",
                "loop.test_cmd=python3 -B run_tests.py",
            ],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        try:
            screen = _read_until(master, b"Ready", 60)
            assert b"Ready" in screen, screen[-2000:]
            os.write(master, b"fix the add bug\r")
            deadline = time.monotonic() + 30
            while not server.requests and time.monotonic() < deadline:
                _read_until(master, b"\x00never", 0.2)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
            os.close(master)
    assert server.hits, "the session never reached the given server"
    assert server.requests and server.requests[0]["model"] == "bare"


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    """Drain the terminal's output (so the app never blocks writing) until `marker` shows or time is up."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen
