"""Context requests on screen: one collapsed line per request, which opens onto the answer the model got."""

from __future__ import annotations

from textual.widgets import Static

from lingcode.model.scripted import ScriptedServer
from lingcode.ui.widgets.context_request import ContextRequestLine
from lingcode.ui.widgets.edit_review import EditReview
from tests.conftest import GitRepoFactory
from tests.ui.harness import FILES, FIX, build_app, make_config, settle, type_line, wait_until

ASK = "<think>I need to see add first.</think>\nNEED SEARCH: return a - b\nNEED REGEX: [unclosed\n"


async def test_each_request_is_a_collapsible_line_with_its_answer(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([ASK, FIX]) as server:
        app = build_app(make_config(server.base_url), root)
        async with app.run_test(size=(110, 40)) as pilot:
            await settle(pilot)
            await type_line(pilot, "fix the failing test")
            await wait_until(pilot, lambda: bool(app.query(EditReview)))
            lines = list(app.query(ContextRequestLine))
            assert [line.title for line in lines] == [
                "asked: search return a - b",
                "asked: regex [unclosed (not answered)",
            ]
            assert all(line.collapsed for line in lines)
            assert lines[1].has_class("refused") and not lines[0].has_class("refused")
            answer = lines[0].query_one(".context-answer", Static)
            assert not answer.region.height  # collapsed: the answer takes no room
            lines[0].collapsed = False
            await pilot.pause(0.1)
            assert answer.region.height > 0
            assert "calc.py:2: return a - b" in str(answer.render())
            assert "calc.py:2: return a - b" in server.requests[1]["messages"][-1]["content"]
            await pilot.press("escape")
            await settle(pilot)
