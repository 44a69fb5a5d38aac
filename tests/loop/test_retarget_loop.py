"""The agent applies a block whose path is made up (small models misremember paths, not code) to the shown
file that holds its SEARCH lines, says so, and `lingcode undo` takes it back; never onto a test file the task
does not ask to change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lingcode.cli import run_cli
from lingcode.events import Notice
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import CALC, FILES, FIX, TEST, make_config, run_agent

MADE_UP = FIX.replace("calc.py\n<<<<<<<", "lingcalc/calc.py\n<<<<<<<")
ON_THE_TEST = (
    "nothing.py\n<<<<<<< SEARCH\n    assert average([2, 4, 6]) == 4\n"
    "=======\n    assert True\n>>>>>>> REPLACE\n"
)


def _run(root: Path, replies: list[str]) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    with ScriptedServer(replies) as server:
        return run_agent(root, server.base_url, events, config=make_config()), events


def test_a_made_up_path_is_applied_to_the_shown_file_and_undone(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(FILES)
    result, events = _run(root, [MADE_UP])
    assert result.status == "passed", result.message
    notes = [e.message for e in events if isinstance(e, Notice)]
    assert "lingcalc/calc.py does not exist; its SEARCH lines are in calc.py: applied there" in notes
    assert not (root / "lingcalc").exists()
    assert result.files_changed == ("calc.py",) and "+    return sum(values) / len(values)" in result.diff
    monkeypatch.chdir(root)
    assert run_cli(["undo"]) == 0, capsys.readouterr().err
    assert (root / "calc.py").read_text() == CALC


def test_never_onto_a_test_file_the_task_does_not_ask_to_change(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    result, events = _run(root, [ON_THE_TEST, FIX])
    assert result.status == "passed", result.message
    assert (root / "test_calc.py").read_text() == TEST
    assert not any(isinstance(e, Notice) and "applied there" in e.message for e in events)
