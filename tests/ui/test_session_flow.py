"""The interactive session, driven from the keyboard against the real Session and the scripted server."""

from __future__ import annotations

from lingcode.model.scripted import ScriptedReply, ScriptedServer
from lingcode.ui.widgets.checks_panel import ChecksPanel
from lingcode.ui.widgets.context_panel import ContextPanel
from lingcode.ui.widgets.edit_review import EditReview
from lingcode.ui.widgets.reply import Reply
from tests.conftest import GitRepoFactory, git
from tests.ui.harness import (
    CALC,
    FILES,
    FIX,
    WRONG_FIX,
    build_app,
    make_config,
    notices,
    settle,
    type_line,
    wait_until,
)


async def test_task_to_review_to_green_tests_to_undo(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "fix the failing test")
            await wait_until(pilot, lambda: bool(app.query(EditReview)))
            reply = app.query_one(Reply)
            assert "it subtracts instead of adding" in reply.answer_text
            assert reply.reasoning == "add subtracts; it should add."
            assert "fix the failing test" in server.requests[0]["messages"][-1]["content"]
            review = app.query_one(EditReview)
            await wait_until(pilot, lambda: review.has_focus)  # the keys go straight to the review
            assert review.paths == ["calc.py"]
            assert "+    return a + b" in review.diffs["calc.py"]
            assert (root / "calc.py").read_text() == CALC  # nothing is written before the user accepts

            await pilot.press("a")
            await wait_until(pilot, lambda: app.query_one(ChecksPanel).state == "passed")
            assert "return a + b" in (root / "calc.py").read_text()
            assert any(n.startswith("Tests pass") for n in notices(app))
            await settle(pilot)

            await type_line(pilot, "/undo")
            await settle(pilot)
            assert (root / "calc.py").read_text() == CALC
            assert any(n.startswith("restored 1 file") for n in notices(app))


async def test_rejected_edit_changes_nothing_and_the_model_hears_of_it(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX, "Understood, I will leave calc.py alone."]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "fix the failing test")
            await wait_until(pilot, lambda: bool(app.query(EditReview)))
            await pilot.press("r")
            await settle(pilot)
            assert (root / "calc.py").read_text() == CALC
            assert app.query_one(ChecksPanel).state == "idle"  # no tests run for a rejected edit
            await type_line(pilot, "why?")
            await settle(pilot)
            told = server.requests[1]["messages"][-1]["content"]
            assert "did not accept your edits to: calc.py" in told


async def test_per_file_choice_with_space_then_enter(make_repo: GitRepoFactory) -> None:
    root = make_repo({**FILES, "notes.txt": "old\n"})
    reply = FIX + "\nnotes.txt\n```\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n"
    with ScriptedServer([reply]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "fix it and update the notes")
            await wait_until(pilot, lambda: bool(app.query(EditReview)))
            assert app.query_one(EditReview).paths == ["calc.py", "notes.txt"]
            await pilot.press("down", "space", "enter")  # reject notes.txt, apply the rest
            await wait_until(pilot, lambda: app.query_one(ChecksPanel).state == "passed")
            await settle(pilot)
            assert "return a + b" in (root / "calc.py").read_text()
            assert (root / "notes.txt").read_text() == "old\n"


async def test_failing_tests_show_in_the_checks_panel(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([WRONG_FIX]) as server:
        app = build_app(make_config(server.base_url, auto_apply=True), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "fix the failing test")
            await wait_until(pilot, lambda: app.query_one(ChecksPanel).state == "failed")
            await settle(pilot)
            assert not app.query(EditReview)  # auto_apply skips the review
            assert "return a * b" in (root / "calc.py").read_text()
            panel = app.query_one(ChecksPanel)
            assert panel.iteration == 1
            assert any("1 failed" in line for line in panel.query_one("Log").lines)  # type: ignore[attr-defined]
            assert any(n.startswith("Tests fail") for n in notices(app))


async def test_text_streams_in_and_esc_stops_it_at_once(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    words = " ".join(f"word{i}" for i in range(400))
    slow = ScriptedReply(words, chunk_delay_s=0.02)
    with ScriptedServer([slow]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "say many words")
            await wait_until(
                pilot, lambda: bool(app.query(Reply)) and "word20" in app.query_one(Reply).answer_text
            )
            assert app.busy == "streaming"  # text shows while the reply is still coming
            await pilot.press("escape")
            await settle(pilot, timeout=5)
            shown = app.query_one(Reply).answer_text
            assert "word399" not in shown
            assert "Stopped." in notices(app)


async def test_server_down_is_a_notice_with_what_to_do(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        url = server.base_url
    app = build_app(make_config(url), root)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await type_line(pilot, "fix the failing test")
        await settle(pilot)
        blocks = app.query("NoticeBlock.error")
        assert blocks, notices(app)
        text = str(blocks.last().render())
        assert "lingcode serve" in text and "Traceback" not in text


async def test_commands_add_drop_diff_commit_model_clear(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        app = build_app(make_config(server.base_url, auto_apply=True), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "/add calc.py")
            await settle(pilot)
            assert "Added calc.py." in notices(app)
            assert "calc.py" in app.query_one(ContextPanel).paths
            await type_line(pilot, "/add nowhere.py")
            await settle(pilot)
            assert "nowhere.py: no such file" in notices(app)
            await type_line(pilot, "/context")
            await settle(pilot)
            summary = app.query(".info-markdown").last().source  # type: ignore[attr-defined]
            assert summary.startswith("**Context**") and "`calc.py`: named" in summary

            await type_line(pilot, "fix the failing test")
            await wait_until(pilot, lambda: app.query_one(ChecksPanel).state == "passed")
            await settle(pilot)
            await type_line(pilot, "/diff")
            await settle(pilot)
            assert "+    return a + b" in app.query("DiffView").last().diff  # type: ignore[attr-defined]
            await type_line(pilot, "/commit fix add")
            await settle(pilot)
            assert git(root, "log", "-1", "--format=%s").strip() == "fix add"
            await type_line(pilot, "/model")
            await type_line(pilot, "/frobnicate")
            await settle(pilot)
            assert "unknown command /frobnicate; type /help for the list" in notices(app)
            await type_line(pilot, "/clear")
            await settle(pilot)
            assert not app.query(Reply)
            assert app.backend is not None and app.backend.session.history == []


async def test_an_edit_that_does_not_apply_is_a_notice_and_changes_nothing(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    stale = FIX.replace("return a - b", "return a - b  # not in the file", 1)
    with ScriptedServer([stale]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "fix the failing test")
            await settle(pilot)
            assert not app.query(EditReview)
            rejected = [n for n in notices(app) if n.startswith("Edits not applied:")]
            assert len(rejected) == 1 and "calc.py" in rejected[0]
            assert (root / "calc.py").read_text() == CALC


async def test_a_test_timeout_says_what_to_raise(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    config = make_config("http://127.0.0.1:9/v1")
    config.loop.test_cmd = "python3 -c 'import time; time.sleep(30)'"
    config.loop.test_timeout = 1.0
    with ScriptedServer([]) as server:
        config.model.base_url = server.base_url
        app = build_app(config, root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "/test")
            await settle(pilot)
            assert app.query_one(ChecksPanel).state == "failed"
            timed_out = app.query("NoticeBlock.error").last()
            assert timed_out.message.startswith("Tests timed out")  # type: ignore[attr-defined]
            assert "loop.test_timeout" in timed_out.hint  # type: ignore[attr-defined]
