"""How runs end when things go wrong: bad replies, rejected edits, hanging tests, dying servers, limits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lingcode.events import CheckFinished, EditsApplied, EditsRejected, Notice, Usage
from lingcode.loop.lock import LockHeld
from lingcode.model.scripted import Fault, ScriptedReply, ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.loop.helpers import (
    CALC,
    FILES,
    FIX,
    MALFORMED,
    NOT_FOUND,
    WRONG_FIX,
    make_config,
    run_agent,
    user_messages,
)


def test_malformed_reply_is_sent_back_with_the_error(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([MALFORMED, FIX]) as server:
        result = run_agent(root, server.base_url)
        second = user_messages(server.requests[1])[-1]
    assert result.status == "passed"
    assert result.iterations == 1  # the unreadable reply was not an edit round
    assert "could not be read as edits" in second
    assert "SEARCH" in second


def test_replies_unreadable_every_time_end_as_unparseable(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([MALFORMED, "no edits here", MALFORMED, MALFORMED]) as server:
        result = run_agent(root, server.base_url, config=make_config(max_format_retries=3))
        assert len(server.requests) == 4
    assert (result.status, result.exit_code) == ("unparseable", 4)
    assert (root / "calc.py").read_text() == CALC


UNCHANGED = """<think>
Keep it.
</think>
calc.py
<<<<<<< SEARCH
    return sum(values) / (len(values) + 1)
=======
    return sum(values) / (len(values) + 1)
>>>>>>> REPLACE
"""


def test_an_edit_that_changes_nothing_is_said_so_and_the_tests_are_not_rerun(
    make_repo: GitRepoFactory,
) -> None:
    root = make_repo(FILES)
    events: list[Any] = []
    with ScriptedServer([UNCHANGED, FIX]) as server:
        result = run_agent(root, server.base_url, events)
        second = user_messages(server.requests[1])[-1]
    assert result.status == "passed"
    assert result.iterations == 2  # the copy counted as a round
    assert "changed nothing" in second and "REPLACE lines are the same as the SEARCH" in second
    # the checks failed before any edit; after the copy they were not rerun, so no failing check follows it
    copied = next(i for i, e in enumerate(events) if isinstance(e, EditsApplied))
    assert not events[copied].files
    assert not any(isinstance(e, CheckFinished) and not e.passed for e in events[copied:])


def test_rejected_edit_gets_the_rejection_and_is_corrected(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    events: list[Any] = []
    with ScriptedServer([NOT_FOUND, FIX]) as server:
        result = run_agent(root, server.base_url, events)
        second = user_messages(server.requests[1])[-1]
    assert result.status == "passed"
    assert result.iterations == 2
    assert "not applied" in second and "calc.py" in second
    assert any(isinstance(e, EditsRejected) for e in events)


def test_edits_rejected_until_the_limit_exit_4_and_nothing_changed(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([NOT_FOUND] * 3) as server:
        result = run_agent(root, server.base_url)
    assert (result.status, result.exit_code) == ("rejected", 4)
    assert result.files_changed == ()
    assert git(root, "status", "--porcelain") == ""


def test_hanging_check_is_killed_with_its_whole_process_group(
    make_repo: GitRepoFactory, tmp_path: Path
) -> None:
    root = make_repo(FILES)
    pidfile = tmp_path / "child.pid"
    hang = f"{sys.executable} -c 'import time; time.sleep(120)' & echo $! > {pidfile}; wait"
    config = make_config(test_cmd=hang, test_timeout=1.0, check_first=False, max_iterations=1)
    events: list[Any] = []
    started = time.monotonic()
    with ScriptedServer([FIX]) as server:
        result = run_agent(root, server.base_url, events, config)
    assert time.monotonic() - started < 30
    assert (result.status, result.exit_code, result.limit) == ("tests_failed", 1, "iterations")
    finished = [e for e in events if isinstance(e, CheckFinished)]
    assert finished and finished[-1].timed_out
    assert _gone(int(pidfile.read_text()))


def _gone(pid: int) -> bool:
    """True when the process is dead (a zombie nobody reaped counts as dead)."""
    for _ in range(50):
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def test_server_dying_mid_run_exits_3_and_restores_the_tree(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    (root / "notes.txt").write_text("the user's own uncommitted work\n")
    before = {p: (root / p).read_bytes() for p in ("calc.py", "notes.txt")}
    with ScriptedServer([WRONG_FIX, Fault("drop_mid_stream", text="<think>\nhalf a thou")]) as server:
        result = run_agent(root, server.base_url)
    assert (result.status, result.exit_code) == ("model_unavailable", 3)
    assert "restored" in result.message
    assert {p: (root / p).read_bytes() for p in before} == before
    assert git(root, "status", "--porcelain") == "?? notes.txt\n"


def test_server_down_from_the_start_exits_3_tree_unchanged(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([Fault("status", status=500)]) as server:
        result = run_agent(root, server.base_url)
    assert (result.status, result.exit_code) == ("model_unavailable", 3)
    assert git(root, "status", "--porcelain") == ""


def test_iteration_limit(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([WRONG_FIX]) as server:
        result = run_agent(root, server.base_url, config=make_config(max_iterations=1))
    assert (result.status, result.exit_code, result.iterations) == ("tests_failed", 1, 1)
    assert result.tests_passed is False
    assert result.files_changed == ("calc.py",)  # kept for inspection; `lingcode undo` reverts it


def test_token_limit(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    heavy = ScriptedReply(WRONG_FIX, usage=Usage(prompt_tokens=900, completion_tokens=200, cached_tokens=0))
    with ScriptedServer([heavy]) as server:
        result = run_agent(root, server.base_url, config=make_config(max_total_tokens=1000))
    assert (result.status, result.exit_code) == ("limit_tokens", 5)
    assert result.usage.prompt_tokens == 900


def test_wall_time_limit_exits_124(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    slow = ScriptedReply(WRONG_FIX, chunk_delay_s=0.4)  # about 20 s of streaming
    started = time.monotonic()
    with ScriptedServer([slow, FIX]) as server:
        result = run_agent(root, server.base_url, config=make_config(wall_time=1.5))
    assert (result.status, result.exit_code) == ("timeout", 124)
    assert time.monotonic() - started < 10  # the model call was stopped, not waited out


def _comment_edit(n: int) -> str:
    old = "def average(values):\n" if n == 0 else f"# attempt {n - 1}\ndef average(values):\n"
    return f"calc.py\n<<<<<<< SEARCH\n{old}=======\n# attempt {n}\ndef average(values):\n>>>>>>> REPLACE\n"


def test_same_failure_three_times_in_a_row(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([_comment_edit(n) for n in range(3)]) as server:
        result = run_agent(root, server.base_url, config=make_config(max_iterations=10))
    assert (result.status, result.exit_code, result.iterations) == ("repeated_failure", 5, 3)


def test_same_edit_three_times_in_a_row(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([WRONG_FIX] * 3) as server:
        result = run_agent(root, server.base_url, config=make_config(max_iterations=10))
    assert (result.status, result.exit_code) == ("repeated_edit", 5)


def test_context_request_is_answered_without_counting_a_round(make_repo: GitRepoFactory) -> None:
    root = make_repo({**FILES, "stats/helpers.py": "def mean_helper():\n    return 42\n"})
    ask = "<think>\nI need the helper.\n</think>\nNEED FILE: stats/helpers.py\nNEED SYMBOL: mean_helper\n"
    with ScriptedServer([ask, FIX]) as server:
        result = run_agent(root, server.base_url)
        answer = user_messages(server.requests[1])[-1]
    assert result.status == "passed"
    assert result.iterations == 1
    assert "stats/helpers.py" in answer and "return 42" in answer
    assert "symbol mean_helper" in answer


def test_no_apply_validates_and_writes_nothing(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        result = run_agent(root, server.base_url, no_apply=True)
    assert (result.status, result.exit_code) == ("proposed", 0)
    assert "+    return sum(values) / len(values)" in result.diff
    assert (root / "calc.py").read_text() == CALC


def test_a_second_run_in_the_same_repository_is_refused(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = root / ".git" / "lingcode" / "run.lock"
        lock.parent.mkdir(parents=True)
        lock.write_text(f'{{"pid": {holder.pid}}}')
        with ScriptedServer([FIX]) as server, pytest.raises(LockHeld, match=f"pid {holder.pid}"):
            run_agent(root, server.base_url)
    finally:
        holder.kill()
        holder.wait()
    with ScriptedServer([FIX]) as server:  # a dead holder's lock is taken over
        assert run_agent(root, server.base_url).status == "passed"


def test_old_turns_are_dropped_before_the_window_overflows(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    noisy = f"{sys.executable} -c \"import sys; print('boom ' * 1500); sys.exit(1)\""
    config = make_config(test_cmd=noisy, max_iterations=3, repeat_limit=10, check_first=False)
    config.model.max_tokens = 300
    events: list[Any] = []
    script = [_comment_edit(n) for n in range(3)]
    with ScriptedServer(script, context_window=4000) as server:
        result = run_agent(root, server.base_url, events, config)
        first, last = server.requests[0]["messages"], server.requests[-1]["messages"]
    assert result.status == "tests_failed"
    assert last[:2] == first[:2]  # system prompt and task stay
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user"]
    assert sum(len(m["content"]) for m in last) // 3 < 4000 - 300
    assert any(isinstance(e, Notice) and "dropped" in e.message for e in events)
