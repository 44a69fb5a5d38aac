"""G9: replies that are not edits (garbage, half a block, the wrong format, 5 MB of text) change nothing, end
in a clear status after at most 3 re-asks, and a huge reply is cut before it is resent or logged.

Each test drives the real `lingcode run` against the scripted server on a repository holding the user's own
uncommitted and untracked work; the script holds more bad replies than a run may ask for, so what stops the
asking is lingcode, not the script running out.
"""

from __future__ import annotations

import json

import pytest

from lingcode.config import LoopConfig
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FIX, MALFORMED
from tests.safety.stream_helpers import (
    assert_reported_cleanly,
    dirty_repo,
    lingcode_run,
    log_size,
    snapshot,
)

MAX_REQUESTS = 4
"""The first question and at most 3 re-asks."""

GARBAGE = "\x00\x1b[31m\ufffd\ufffe qZ#@!% \u00ff\u00fe {{ ]] \x7f\u202e\n\n\t<<<<\n>>>> ===== \x08\x08"
PROSE = (
    "The bug is in calc.py: average divides by len(values) + 1. Change it to divide by len(values) and "
    "the test will pass."
)
COMPLETE_THEN_HALF = FIX + "\ntest_calc.py\n<<<<<<< SEARCH\n    assert average([2, 4, 6]) == 4\n=======\n"
"""A complete block that would apply, then one cut off: a reply is applied whole or not at all."""
JSON_EDITS = json.dumps(
    {"edits": [{"path": "calc.py", "search": "(len(values) + 1)", "replace": "len(values)"}]}, indent=2
)
TOOL_CALL = (
    '<tool_call>\n{"name": "str_replace", "arguments": {"path": "calc.py", '
    '"old_str": "(len(values) + 1)", "new_str": "len(values)"}}\n</tool_call>'
)


def stale_diff(name: str = "mean") -> str:
    """A unified diff against some other calc.py (one defining `name`): its lines are not in the file."""
    return (
        f"--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def {name}(xs):\n"
        "-    return sum(xs) / (len(xs) + 1)\n+    return sum(xs) / len(xs)\n"
    )


HUNKLESS_DIFF = "--- a/calc.py\n+++ b/calc.py\n    return sum(values) / len(values)\n"
UNNAMED_CODE = "```python\ndef average(values):\n    return sum(values) / len(values)\n```\n"

FIVE_MB = 5_000_000
BIG_PROSE = ("The model rambles on without an edit. " * (FIVE_MB // 38 + 1))[:FIVE_MB]
BIG_BLOCK = (
    "calc.py\n<<<<<<< SEARCH\n" + "    x = 1\n" * (FIVE_MB // 10) + "=======\n    pass\n>>>>>>> REPLACE\n"
)
"""One edit block whose 5 MB of SEARCH lines are not in the file."""


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(GARBAGE, id="garbage"),
        pytest.param(PROSE, id="prose"),
        pytest.param(MALFORMED, id="half-a-block"),
        pytest.param(COMPLETE_THEN_HALF, id="complete-block-then-half"),
        pytest.param(JSON_EDITS, id="json"),
        pytest.param(TOOL_CALL, id="tool-call"),
        pytest.param(stale_diff(), id="diff-of-another-file"),
        pytest.param(HUNKLESS_DIFF, id="diff-without-hunks"),
        pytest.param(UNNAMED_CODE, id="code-without-a-path"),
    ],
)
def test_a_reply_that_is_not_edits_changes_nothing_within_three_re_asks(
    make_repo: GitRepoFactory, reply: str
) -> None:
    root = dirty_repo(make_repo)
    before = snapshot(root)
    with ScriptedServer([reply] * 8) as server:
        run = lingcode_run(root, server.base_url)
        requests = list(server.requests)
    assert run.exit_code == 4, run.stdout
    assert run.result["status"] in ("unparseable", "rejected")
    assert_reported_cleanly(run)
    assert snapshot(root) == before
    assert 2 <= len(requests) <= MAX_REQUESTS
    # each re-ask tells the model what was wrong: the conversation grows by its reply and the feedback
    assert len(requests[1]["messages"]) == len(requests[0]["messages"]) + 2
    # a reply of this size goes back whole (only one past what max_tokens allows is cut)
    kept = {"role": "assistant", "content": reply}
    assert requests[1]["messages"][-2] == kept


def test_a_different_unappliable_diff_every_time_ends_at_the_edit_round_limit(
    make_repo: GitRepoFactory,
) -> None:
    # a diff is one of the edit formats, so one that does not fit the file is a rejected edit round, not an
    # unreadable reply: with no two alike the repeat detection never fires and the edit-round limit
    # (loop.max_iterations) is what stops the asking
    root = dirty_repo(make_repo)
    before = snapshot(root)
    rounds = LoopConfig().max_iterations
    with ScriptedServer([stale_diff(f"mean{attempt}") for attempt in range(rounds + 3)]) as server:
        run = lingcode_run(root, server.base_url)
        asked = len(server.requests)
    assert (run.exit_code, run.result["status"]) == (4, "rejected"), run.stdout
    assert_reported_cleanly(run)
    assert snapshot(root) == before
    assert asked == rounds


@pytest.mark.parametrize("reply", [pytest.param(BIG_PROSE, id="prose"), pytest.param(BIG_BLOCK, id="block")])
def test_a_5_mb_reply_is_cut_before_it_is_resent_or_logged(make_repo: GitRepoFactory, reply: str) -> None:
    root = dirty_repo(make_repo)
    before = snapshot(root)
    # one HTTP chunk per 64 KB keeps 5 MB quick to stream; the token budget is moved out of the way so that
    # the re-asks, which would carry the reply back, do happen
    with ScriptedServer([reply] * 8, chunk_chars=65536) as server:
        run = lingcode_run(root, server.base_url, "loop.max_total_tokens=1000000000")
        requests = list(server.requests)
    assert run.exit_code == 4, run.stdout
    assert_reported_cleanly(run)
    assert snapshot(root) == before
    assert 2 <= len(requests) <= MAX_REQUESTS
    assert max(len(json.dumps(body)) for body in requests) < 256_000
    assert log_size(root) < 512_000
    # what goes back is the reply's beginning, marked as cut
    kept = requests[1]["messages"][-2]
    assert kept["role"] == "assistant"
    assert kept["content"].startswith(reply[:2000])
    assert "lingcode cut" in kept["content"]
