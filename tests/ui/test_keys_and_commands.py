"""Keyboard use: history, completion, panels, quitting twice, /run, /help, resume, NO_COLOR."""

from __future__ import annotations

import threading

import pytest

from lingcode.events import EventSink
from lingcode.model.scripted import ScriptedServer
from lingcode.ui.app import create_app
from lingcode.ui.backend import Backend, Progress
from lingcode.ui.history import InputHistory, history_path
from lingcode.ui.widgets.checks_panel import ChecksPanel
from lingcode.ui.widgets.context_panel import ContextPanel
from lingcode.ui.widgets.prompt_input import PromptInput
from lingcode.ui.widgets.reply import Reply
from tests.conftest import GitRepoFactory
from tests.ui.harness import (
    FILES,
    FIX,
    build_app,
    make_config,
    notices,
    scripted_factory,
    settle,
    type_line,
    wait_until,
)


async def test_inputs_come_back_with_up_in_the_next_session(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        config = make_config(server.base_url)
        for round_ in (1, 2):
            app = create_app(
                scripted_factory(config, root),
                config=config,
                root=root,
                history=InputHistory(history_path(root)),
            )
            async with app.run_test(size=(110, 32)) as pilot:
                await settle(pilot)
                if round_ == 1:
                    await type_line(pilot, "/help")
                    await type_line(pilot, "/model")
                    continue
                prompt = app.query_one(PromptInput)
                await pilot.press("up")
                assert prompt.value == "/model"
                await pilot.press("up", "up")
                assert prompt.value == "/help"
                await pilot.press("down", "down")
                assert prompt.value == ""


async def test_tab_completes_commands_and_paths(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            prompt = app.query_one(PromptInput)
            await wait_until(pilot, lambda: "calc.py" in prompt.suggester_.paths)  # listed in a worker
            await pilot.press("/", "u", "n", "tab")
            assert prompt.value == "/undo "
            prompt.value = ""
            await pilot.press(*"/add ca", "tab")
            assert prompt.value == "/add calc.py"


async def test_f2_shows_the_panels_on_a_small_terminal(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            sidebar = app.query_one("#sidebar")
            assert not sidebar.display
            await pilot.press("f2")
            assert sidebar.display and app.query_one(ContextPanel).region.width > 0
            await pilot.press("f2")
            assert not sidebar.display


async def test_context_panel_drops_a_file_with_d(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "/add calc.py")
            await settle(pilot)
            assert app.backend is not None and app.backend.session.named_files == ["calc.py"]
            panel = app.query_one(ContextPanel)
            options = panel.query_one("OptionList")
            options.focus()
            options.highlighted = panel.paths.index("calc.py")  # type: ignore[attr-defined]
            await pilot.press("d")
            await settle(pilot)
            assert app.backend.session.named_files == []
            assert "Dropped calc.py." in notices(app)


async def test_ctrl_c_twice_quits_and_saves_for_resume(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer(["The tests look fine to me.", "Still fine."]) as server:
        config = make_config(server.base_url)
        app = build_app(config, root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "are the tests fine?")
            await settle(pilot)
            await pilot.press("ctrl+c")
            await pilot.pause(0.1)
            assert app.is_running  # one Ctrl+C only warns
            await pilot.press("ctrl+c")
            await pilot.pause(0.1)
        assert not app.is_running

        resumed = build_app(config, root, resume=True)
        async with resumed.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            assert resumed.query_one(Reply).answer_text == "The tests look fine to me."
            assert any(n.startswith("Resumed the last session") for n in notices(resumed))
            await type_line(pilot, "and now?")
            await settle(pilot)
            roles = [m["role"] for m in server.requests[1]["messages"]]
            assert roles.count("assistant") == 1  # the earlier reply went back to the model


async def test_resume_with_nothing_saved_says_so(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        app = build_app(make_config(server.base_url), root, resume=True)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            assert any(n.startswith("no saved session to resume") for n in notices(app))


async def test_run_iterates_until_green(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "/run fix the failing test")
            await settle(pilot, timeout=30)
            assert "return a + b" in (root / "calc.py").read_text()
            assert app.query_one(ChecksPanel).state == "passed"
            ended = [n for n in notices(app) if n.startswith("Run ended")]
            assert ended and "(passed)" in ended[0] and "changed calc.py" in ended[0]


async def test_help_lists_the_commands(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await type_line(pilot, "/help")
            await settle(pilot)
            source = app.query(".info-markdown").last().source  # type: ignore[attr-defined]
            assert "/commit [MESSAGE]" in source and "stop the model now" in source


def test_no_color_turns_the_screen_monochrome(
    make_repo: GitRepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    root = make_repo(FILES)
    app = build_app(make_config("http://127.0.0.1:9/v1"), root)
    assert app.no_color
    assert any(type(f).__name__ == "Monochrome" for f in app._filters)


async def test_input_typed_while_the_model_opens_is_sent_when_ready(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer(["Hello from the model."]) as server:
        config = make_config(server.base_url)
        opening = threading.Event()
        inner = scripted_factory(config, root)

        def slow_factory(sink: EventSink, progress: Progress) -> Backend:
            opening.wait(10)  # the embedded server can take minutes to start
            return inner(sink, progress)

        app = create_app(slow_factory, config=config, root=root, history=InputHistory(None), blink=False)
        async with app.run_test(size=(110, 32)) as pilot:
            await pilot.pause(0.1)
            assert app.busy == "connecting"
            await type_line(pilot, "say hello")
            assert "Will send 'say hello' once the model is ready." in notices(app)
            opening.set()
            await wait_until(pilot, lambda: bool(app.query(Reply)))
            await settle(pilot)
            assert app.query_one(Reply).answer_text == "Hello from the model."
