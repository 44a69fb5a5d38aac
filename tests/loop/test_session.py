"""The interactive Session API against a scripted server: propose, apply (all or some), check, undo, commit,
save and resume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lingcode.errors import UsageError
from lingcode.events import EditsApplied, ModelDelta
from lingcode.loop.session import Session, split_diff
from lingcode.model import ModelClient
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.loop.helpers import CALC, FILES, FIX, MALFORMED, WRONG_FIX, make_config, user_messages

TWO_FILES = (
    FIX
    + """notes.md
<<<<<<< SEARCH
=======
average is fixed
>>>>>>> REPLACE
"""
)


@pytest.fixture
def session_for(make_repo: GitRepoFactory) -> Iterator[Any]:
    servers: list[ScriptedServer] = []
    clients: list[ModelClient] = []

    def build(script: list[Any], files: dict[str, str | bytes] | None = None) -> tuple[Session, Path, Any]:
        root = make_repo(files or FILES)
        server = ScriptedServer(script).start()
        servers.append(server)
        config = make_config()
        client = ModelClient(config.model, server.base_url)
        clients.append(client)
        events: list[Any] = []
        return Session(config, root, client, events.append), root, (server, events)

    yield build
    for client in clients:
        client.close()
    for server in servers:
        server.stop()


def test_ask_proposes_without_writing_then_apply_writes(session_for: Any) -> None:
    session, root, (_, events) = session_for([FIX])
    proposal = session.ask("fix average")
    assert proposal.error is None
    assert "divides by one too many" in proposal.reasoning
    assert list(proposal.diffs) == ["calc.py"]
    assert (root / "calc.py").read_text() == CALC
    assert any(isinstance(e, ModelDelta) and e.reasoning for e in events)
    result = session.apply(proposal)
    assert result.ok
    assert "len(values)\n" in (root / "calc.py").read_text()
    assert any(isinstance(e, EditsApplied) for e in events)
    assert session.run_checks().passed
    assert "+    return sum(values) / len(values)" in session.diff()
    assert [m["role"] for m in session.history] == ["system", "user", "assistant"]


def test_apply_some_files_reports_the_rest_to_the_model(session_for: Any) -> None:
    session, root, (server, _) = session_for([TWO_FILES, "<think>\nok\n</think>\n"])
    proposal = session.ask("fix average and write a note")
    assert set(proposal.diffs) == {"calc.py", "notes.md"}
    session.apply(proposal, files=["calc.py"])
    assert not (root / "notes.md").exists()
    session.ask("thanks")
    follow = user_messages(server.requests[1])[-1]
    assert "did not accept your edits to: notes.md" in follow
    assert follow.rstrip().endswith("thanks") or "thanks" in follow


def test_parse_error_is_returned_and_sent_back_next_turn(session_for: Any) -> None:
    session, _, (server, _) = session_for([MALFORMED, FIX])
    proposal = session.ask("fix it")
    assert proposal.error and proposal.edits == []
    again = session.ask("try again")
    assert again.error is None
    assert "could not be read as edits" in user_messages(server.requests[1])[-1]


def test_failed_checks_are_told_to_the_model(session_for: Any) -> None:
    session, _, (server, _) = session_for([WRONG_FIX, FIX])
    session.apply(session.ask("fix it"))
    assert not session.run_checks().passed
    session.ask("still broken")
    assert "average([2, 4, 6]) == 6.0" in user_messages(server.requests[1])[-1]


def test_undo_restores_the_checkpoint_and_prefix_stays_stable(session_for: Any) -> None:
    session, root, (server, _) = session_for([FIX, "<think>\nfine\n</think>\n"])
    (root / "scratch.txt").write_text("user's work\n")
    session.apply(session.ask("fix it"))
    message = session.undo()
    assert message.startswith("restored 1 file")
    assert (root / "calc.py").read_text() == CALC
    assert (root / "scratch.txt").read_text() == "user's work\n"
    assert session.undo().startswith("nothing to undo")
    session.ask("what now?")
    first, second = server.requests[0]["messages"], server.requests[1]["messages"]
    assert second[: len(first)] == first
    assert "undid all of your edits" in second[-1]["content"]


def test_commit_writes_a_commit_with_only_lingcodes_files(session_for: Any) -> None:
    session, root, _ = session_for([FIX])
    (root / "scratch.txt").write_text("not lingcode's\n")
    session.apply(session.ask("fix it"))
    sha = session.commit("Fix average\n")
    assert git(root, "rev-parse", "HEAD").strip() == sha
    assert git(root, "show", "--name-only", "--format=%s", "HEAD").split() == ["Fix", "average", "calc.py"]
    assert git(root, "status", "--porcelain") == "?? scratch.txt\n"
    with pytest.raises(UsageError, match="nothing to commit"):
        session.commit("again")


def test_commit_message_generated_by_the_model(session_for: Any) -> None:
    session, root, (server, _) = session_for([FIX, "Fix the average divisor\n\nIt divided by n + 1."])
    session.apply(session.ask("fix it"))
    session.commit()
    assert git(root, "log", "-1", "--format=%s").strip() == "Fix the average divisor"
    assert "diff" in server.requests[-1]["messages"][0]["content"]


def test_add_and_drop_files(session_for: Any) -> None:
    session, _, (server, _) = session_for(["<think>\nhm\n</think>\n", "<think>\nok\n</think>\n"])
    assert session.add_files(["calc.py", "calc.py"]) == ["calc.py"]
    with pytest.raises(UsageError):
        session.add_files(["missing.py"])
    with pytest.raises(UsageError):
        session.add_files(["../outside.py"])
    assert session.drop_files(["calc.py", "other.py"]) == ["calc.py"]
    session.ask("look")
    session.add_files(["test_calc.py"])
    session.ask("and this")
    assert "def test_average" in user_messages(server.requests[1])[-1]
    ctx = session.context("average")
    assert any(f.path == "calc.py" for f in ctx.files)


def test_save_and_resume(session_for: Any) -> None:
    session, root, (server, events) = session_for([FIX, "<think>\nresumed\n</think>\n"])
    session.add_files(["calc.py"])
    session.ask("fix it")
    path = session.save()
    assert path.is_file()
    config = make_config()
    with ModelClient(config.model, server.base_url) as client:
        again = Session.resume(config, root, client, events.append)
        assert again.named_files == ["calc.py"]
        assert again.history == session.history
        again.ask("continue")
    assert server.requests[1]["messages"][: len(server.requests[0]["messages"]) + 1] == session.history


def test_resume_without_saved_session(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    config = make_config()
    with (
        ScriptedServer([]) as server,
        ModelClient(config.model, server.base_url) as client,
        pytest.raises(UsageError, match="no saved session"),
    ):
        Session.resume(config, root, client, lambda e: None)


def test_run_until_green_keeps_the_sessions_first_checkpoint(session_for: Any) -> None:
    session, root, _ = session_for([WRONG_FIX, "<think>\nagain\n</think>\n" + _wrong_to_right()])
    session.apply(session.ask("try"))
    result = session.run_until_green("fix the failing test")
    assert result.status == "passed", result.message
    session.undo()
    assert (root / "calc.py").read_text() == CALC


def _wrong_to_right() -> str:
    return (
        "calc.py\n<<<<<<< SEARCH\n    return sum(values) / (len(values) - 1)\n=======\n"
        "    return sum(values) / len(values)\n>>>>>>> REPLACE\n"
    )


def test_split_diff_by_file() -> None:
    diff = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n--- /dev/null\n+++ b/y.py\n@@ -0,0 +1 @@\n+c\n"
    parts = split_diff(diff)
    assert list(parts) == ["x.py", "y.py"]
    assert parts["y.py"].startswith("--- /dev/null")


def test_apply_with_no_file_chosen_writes_nothing(session_for: Any) -> None:
    session, root, (server, _) = session_for([FIX, "<think>\nok\n</think>\n"])
    result = session.apply(session.ask("fix it"), files=[])
    assert result.ok and result.changed_paths == []
    assert (root / "calc.py").read_text() == CALC
    assert session.diff() == ""
    session.ask("why not?")
    assert "did not accept your edits to: calc.py" in user_messages(server.requests[1])[-1]
