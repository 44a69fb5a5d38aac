"""SVG snapshots of the main states; the clock is frozen and measured timings hidden, so they are stable.

Regenerate after an intended change with `pytest tests/ui/test_snapshots.py --snapshot-update` and look at
the SVGs under tests/ui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from lingcode.events import Usage
from lingcode.model.scripted import Fault, ScriptedReply, ScriptedServer
from lingcode.ui.widgets.checks_panel import ChecksPanel
from lingcode.ui.widgets.edit_review import EditReview
from tests.conftest import GitRepoFactory
from tests.ui.harness import FILES, FIX, WRONG_FIX, build_app, make_config, settle, type_line, wait_until

Snap = Callable[..., bool]
WIDE = (110, 32)
USAGE = Usage(prompt_tokens=800, completion_tokens=60, cached_tokens=200)
"""Fixed usage: the server's own count depends on the prompt templates, which change for other reasons."""


async def _ask(pilot: Pilot[Any], until: Callable[[], bool]) -> None:
    await settle(pilot)
    await type_line(pilot, "fix the failing test")
    await wait_until(pilot, until)


def test_empty_session_at_80x24(snap_compare: Snap, make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([]) as server:
        assert snap_compare(build_app(make_config(server.base_url), root), run_before=settle)


def test_streaming_reply(snap_compare: Snap, make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    partial = FIX[: FIX.index("calc.py\n")]  # the reasoning and the prose; then the stream stalls
    with ScriptedServer([Fault("stall", text=partial, stall_s=10)]) as server:
        app = build_app(make_config(server.base_url), root)

        async def streaming(pilot: Pilot[Any]) -> None:
            await _ask(
                pilot, lambda: "instead of adding" in getattr(app.conversation.current, "answer_text", "")
            )
            await pilot.pause(0.2)

        assert snap_compare(app, terminal_size=WIDE, run_before=streaming)


def test_edit_review(snap_compare: Snap, make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([ScriptedReply(FIX, usage=USAGE)]) as server:
        app = build_app(make_config(server.base_url), root)

        async def review(pilot: Pilot[Any]) -> None:
            await _ask(pilot, lambda: bool(app.query(EditReview)) and app.query_one(EditReview).has_focus)
            await settle(pilot)

        assert snap_compare(app, terminal_size=WIDE, run_before=review)


def test_tests_failing(snap_compare: Snap, make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([ScriptedReply(WRONG_FIX, usage=USAGE)]) as server:
        app = build_app(make_config(server.base_url, auto_apply=True), root)

        async def failing(pilot: Pilot[Any]) -> None:
            await _ask(pilot, lambda: app.query_one(ChecksPanel).state == "failed")
            await settle(pilot)

        assert snap_compare(app, terminal_size=WIDE, run_before=failing)


def test_server_down_notice_at_80x24(snap_compare: Snap, make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    url = (
        "http://127.0.0.1:9/v1"  # the discard port: nothing listens there, and the notice shows a steady URL
    )

    async def down(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await type_line(pilot, "fix the failing test")
        await settle(pilot)

    assert snap_compare(build_app(make_config(url), root), run_before=down)
