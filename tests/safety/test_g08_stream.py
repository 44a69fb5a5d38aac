"""G8: a reply stream that breaks off or stalls is retried or reported (exit 3), and never applied.

Each test drives the real `lingcode run` against the scripted server on a repository holding the user's own
uncommitted and untracked work. The broken streams carry a complete edit block that would apply (the control
test shows it does when it arrives whole), so a partial reply that slipped through would change calc.py.
"""

from __future__ import annotations

import pytest

from lingcode.model.scripted import Fault, ScriptedServer, ScriptItem
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FIX, FIX_AFTER_WRONG, WRONG_FIX
from tests.safety.stream_helpers import (
    USER_EDIT,
    assert_reported_cleanly,
    dirty_repo,
    lingcode_run,
    run_log,
    snapshot,
)

QUICK_RETRY = "model.retry_backoff=0.01"
"""Retries without the default half-second waits: the count of attempts is what the tests look at."""


def test_the_whole_reply_applies_so_a_partial_one_would_show(make_repo: GitRepoFactory) -> None:
    root = dirty_repo(make_repo)
    with ScriptedServer([FIX]) as server:
        run = lingcode_run(root, server.base_url)
    assert (run.exit_code, run.result["status"]) == (0, "passed")
    assert (root / "calc.py").read_text(encoding="utf-8") != USER_EDIT


@pytest.mark.parametrize(
    ("fault", "config"),
    [
        pytest.param(Fault("drop_mid_stream", text=FIX), (), id="connection-dropped"),
        pytest.param(Fault("truncated_final", text=FIX), (), id="final-chunk-cut"),
        pytest.param(Fault("malformed_json", text=FIX), (), id="garbled-chunk"),
        pytest.param(Fault("stall", text=FIX, stall_s=30), ("model.idle_timeout=1",), id="stalled"),
    ],
)
def test_a_reply_broken_after_an_edit_block_exits_3_and_is_not_applied(
    make_repo: GitRepoFactory, fault: Fault, config: tuple[str, ...]
) -> None:
    root = dirty_repo(make_repo)
    before = snapshot(root)
    with ScriptedServer([fault]) as server:
        run = lingcode_run(root, server.base_url, QUICK_RETRY, *config)
    assert (run.exit_code, run.result["status"]) == (3, "model_unavailable"), run.stdout
    assert "discarded" in run.result["message"]
    assert_reported_cleanly(run)
    assert snapshot(root) == before
    records = run_log(root)
    assert not [r for r in records if r["type"] == "edits"]
    # the partial reply is not kept as the model's turn either
    assert not [r for r in records if r["type"] == "message" and r["role"] == "assistant"]


def test_a_reply_broken_in_a_later_round_restores_the_users_tree(make_repo: GitRepoFactory) -> None:
    root = dirty_repo(make_repo)
    before = snapshot(root)
    script: list[ScriptItem] = [WRONG_FIX, Fault("drop_mid_stream", text=FIX_AFTER_WRONG)]
    with ScriptedServer(script) as server:
        run = lingcode_run(root, server.base_url, QUICK_RETRY)
    assert (run.exit_code, run.result["status"]) == (3, "model_unavailable"), run.stdout
    assert "restored" in run.result["message"]
    assert_reported_cleanly(run)
    # the first round's edit is undone and the second round's partial edit was never made
    assert snapshot(root) == before
    applied = [r for r in run_log(root) if r["type"] == "edits" and r["ok"]]
    assert len(applied) == 1


def test_a_connection_dropped_before_any_reply_text_is_retried(make_repo: GitRepoFactory) -> None:
    root = dirty_repo(make_repo)
    with ScriptedServer([Fault("drop_mid_stream", text=""), FIX]) as server:
        run = lingcode_run(root, server.base_url, QUICK_RETRY)
        requests = list(server.requests)
    assert (run.exit_code, run.result["status"]) == (0, "passed"), run.stdout
    assert "retrying" in run.stderr
    assert_reported_cleanly(run)
    assert len(requests) == 2
    assert requests[1] == requests[0]  # the same question again, nothing of the dropped attempt in it


def test_a_server_that_never_answers_is_reported_within_the_first_token_timeout(
    make_repo: GitRepoFactory,
) -> None:
    root = dirty_repo(make_repo)
    before = snapshot(root)
    with ScriptedServer([Fault("stall", text="", stall_s=60)]) as server:
        run = lingcode_run(root, server.base_url, "model.first_token_timeout=1", timeout=40)
    assert (run.exit_code, run.result["status"]) == (3, "model_unavailable"), run.stdout
    assert "model.first_token_timeout" in run.result["message"]
    assert_reported_cleanly(run)
    assert snapshot(root) == before
