"""Shared pieces of the UI tests: a repository with a failing test, scripted replies, and the real Session."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from lingcode.config import Config, LoopConfig, ModelConfig
from lingcode.events import EventSink
from lingcode.loop.session import Session
from lingcode.model import ModelClient
from lingcode.ui.app import LingcodeApp, create_app
from lingcode.ui.backend import Backend, Progress, SessionFactory
from lingcode.ui.history import InputHistory

CALC = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
# a few lines of test runner instead of pytest: the UI tests care about the output's path to the screen, and
# pytest's start-up (twice per check: related tests first) would cost seconds on a busy machine
RUNNER = """import importlib, pathlib, sys, traceback
sys.path.insert(0, ".")
names = sys.argv[1:] or sorted(str(p) for p in pathlib.Path(".").glob("test_*.py"))
failed = 0
for name in names:
    module = importlib.import_module(pathlib.Path(name).stem)
    for attr in sorted(dir(module)):
        if attr.startswith("test_"):
            try:
                getattr(module, attr)()
                print(f"PASSED {name}::{attr}")
            except AssertionError as exc:
                failed += 1
                line = traceback.extract_tb(exc.__traceback__)[-1].line
                print(f"FAILED {name}::{attr} - {line}")
print(f"{failed} failed" if failed else "all passed")
sys.exit(1 if failed else 0)
"""
FILES: dict[str, str | bytes] = {"calc.py": CALC, "test_calc.py": TEST, "run_tests.py": RUNNER}


def edit_reply(new_line: str, reasoning: str = "add subtracts; it should add.") -> str:
    """A reply that replaces `return a - b` in calc.py, in the SEARCH/REPLACE format, with reasoning first."""
    return (
        f"<think>{reasoning}</think>\n"
        "The bug is in `add`: it subtracts instead of adding.\n\n"
        "calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n"
        f"{new_line}\n>>>>>>> REPLACE\n```\n"
    )


FIX = edit_reply("    return a + b")
WRONG_FIX = edit_reply("    return a * b", reasoning="multiply, surely.")


def make_config(base_url: str, *, auto_apply: bool = False) -> Config:
    """Settings for a scripted run: no retries, no grammar, the tiny test runner on the repository.

    The runner is started as `python3` from PATH (not sys.executable), so the command on screen is the same
    on every machine; it needs nothing beyond the standard library.
    """
    return Config(
        model=ModelConfig(base_url=base_url, max_retries=0, constrain=False, first_token_timeout=20),
        loop=LoopConfig(test_cmd="python3 -B run_tests.py", auto_apply=auto_apply),
    )


def scripted_factory(config: Config, root: Path, *, resume: bool = False) -> SessionFactory:
    """Opens the real ModelClient and Session against the scripted server; names it steadily for snapshots."""

    def factory(sink: EventSink, progress: Progress) -> Backend:
        assert config.model.base_url is not None
        client = ModelClient(config.model, config.model.base_url)
        opener = Session.resume if resume else Session
        session = opener(config, root, client, sink)
        return Backend(session, "scripted-model", "scripted", "a scripted test server", resumed=resume)

    return factory


def build_app(config: Config, root: Path, *, resume: bool = False) -> LingcodeApp:
    """The app as tests build it: frozen clock, no measured timings, no blinking: deterministic screens."""
    return create_app(
        scripted_factory(config, root, resume=resume),
        config=config,
        root=root,
        clock=lambda: 0.0,
        show_timings=False,
        history=InputHistory(None),
        blink=False,
    )


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until `condition` holds; fail with the screen's notices when it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; notices: {notices(pilot.app)}")
        await pilot.pause(0.05)


async def settle(pilot: Pilot[None], timeout: float = 20.0) -> None:
    """Wait until no job runs or waits."""
    app = pilot.app
    assert isinstance(app, LingcodeApp)
    await wait_until(pilot, lambda: not app.busy and not app._queue, timeout)
    await pilot.pause(0.05)


def notices(app: object) -> list[str]:
    """The messages of the notices in the conversation, in order."""
    from lingcode.ui.widgets.notice_block import NoticeBlock

    assert isinstance(app, LingcodeApp)
    return [block.message for block in app.query(NoticeBlock)]


async def type_line(pilot: Pilot[None], text: str) -> None:
    """Type into the prompt and press Enter."""
    app = pilot.app
    assert isinstance(app, LingcodeApp)
    app.action_focus_prompt()
    await pilot.press(*text, "enter")
