"""model.resample: for a small model a failed edit is undone and the first prompt asked again (sampled, a new
seed); the user's uncommitted work survives the undo, the last round's edit stays, and larger models keep
the failure feedback. A real scripted server records what each request sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lingcode.events import Notice
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import CALC, FILES, FIX, FIX_AFTER_WRONG, WRONG_FIX, make_config, run_agent

SMALL, LARGE = "gemma-3-270m-q4_k_m", "qwen2.5-coder-7b"
OTHER_WRONG = WRONG_FIX.replace("(len(values) - 1)", "(len(values) * 2)")
USERS = "\n# the user's own line, not committed\n"


def _run(root: Path, replies: list[str], model: str, rounds: int = 3) -> tuple[Any, list[Any], list[Any]]:
    config = make_config(max_iterations=rounds)
    config.model.seed = 7
    events: list[Any] = []
    with ScriptedServer(replies, model=model) as server:
        result = run_agent(root, server.base_url, events, config=config)
        return result, list(server.requests), events


def test_a_small_models_failed_edit_is_undone_and_the_task_asked_again(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    (root / "calc.py").write_text(CALC + USERS)
    result, bodies, events = _run(root, [WRONG_FIX, FIX], SMALL)
    assert result.status == "passed" and result.iterations == 2, result.message
    assert (root / "calc.py").read_text() == CALC.replace("(len(values) + 1)", "len(values)") + USERS
    first, second = bodies
    assert second["messages"] == first["messages"], "the same prompt: no failure feedback, no failed reply"
    assert (first["temperature"], first["seed"]) == (0.0, 7)
    assert (second["temperature"], second["seed"]) == (0.8, 8)
    assert any(isinstance(e, Notice) and "edit undone" in e.message for e in events)


def test_the_last_rounds_edit_stays(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    result, bodies, _ = _run(root, [WRONG_FIX, OTHER_WRONG], SMALL, rounds=2)
    assert result.status == "tests_failed", result.message
    assert "(len(values) * 2)" in (root / "calc.py").read_text() and "(len(values) - 1)" not in result.diff
    assert len(bodies) == 2


def test_larger_models_keep_the_failure_feedback(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    result, bodies, _ = _run(root, [WRONG_FIX, FIX_AFTER_WRONG], LARGE)
    assert result.status == "passed", result.message
    assert len(bodies[1]["messages"]) == len(bodies[0]["messages"]) + 2, "the reply and the failure went back"
    assert bodies[1]["temperature"] == 0.0


def test_an_edit_that_changes_nothing_is_asked_again_not_told(make_repo: GitRepoFactory) -> None:
    """A small model told that its edit changed nothing sends the same copy again (until repeated_edit)."""
    root = make_repo(FILES)
    line = "    return sum(values) / (len(values) + 1)\n"
    copied = f"calc.py\n<<<<<<< SEARCH\n{line}=======\n{line}>>>>>>> REPLACE\n"
    result, bodies, events = _run(root, [copied, FIX], SMALL)
    assert result.status == "passed" and result.iterations == 2, result.message
    first, second = bodies
    assert second["messages"] == first["messages"], "asked afresh, not told the edit changed nothing"
    assert (second["temperature"], second["seed"]) == (0.8, 8)
    assert any(isinstance(e, Notice) and e.message.startswith("the edit changed nothing") for e in events)
