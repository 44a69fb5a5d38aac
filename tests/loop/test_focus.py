"""Small models' edits held to what the failing test calls: the focus read from real pytest output, and the
grammar a real scripted server was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lingcode.loop.focus import failure_focus, is_small_model, replace_lines, wants_focus
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FIX, PYTEST, TEST, make_config, run_agent

CALC = (
    "def add(a, b):\n"
    "    return a + b\n"
    "\n"
    "\n"
    "def average(values):\n"
    "    total = add(0, sum(values))\n"
    "    return total / (len(values) + 1)\n"
)
FILES: dict[str, str | bytes] = {
    "calc.py": CALC,
    "test_calc.py": TEST,
    "notes.md": "# notes\nkeep it small\n",
}
FAILING = """
    def test_average():
>       assert average([2, 4, 6]) == 4
E       assert 3.0 == 4
E        +  where 3.0 = average([2, 4, 6])

test_calc.py:5: AssertionError
"""
BARE_FIX = (
    FIX[FIX.index("</think>\n") + len("</think>\n") :]
    .replace("    return sum(values) / (len(values) + 1)", "    return total / (len(values) + 1)")
    .replace("    return sum(values) / len(values)", "    return total / len(values)")
)
# a first try that breaks the syntax: the next failure names no function, yet the fault is still in average
BROKEN = BARE_FIX.replace("    return total / len(values)", "    return total / (len(values)")


def test_focus_is_the_called_function_only() -> None:
    assert failure_focus({"calc.py": CALC, "notes.md": "average(x)\n"}, FAILING) == {"calc.py": [(5, 7)]}


def test_frames_count_and_most_named_come_first() -> None:
    frames = 'calc.py:6: in average\n    File "calc.py", line 2, in add\nadd(1, 2) add(3, 4)\n'
    assert failure_focus({"calc.py": CALC}, frames) == {"calc.py": [(1, 2), (5, 7)]}


def test_no_focus_when_nothing_defined_is_named_or_a_name_is_ambiguous() -> None:
    assert failure_focus({"calc.py": CALC}, "ImportError: cannot import name 'mean'\n") == {}
    twice = {"a.py": "def run():\n    pass\n", "b.py": "def run():\n    pass\n"}
    assert failure_focus(twice, "run()\n") == {}


def test_small_models_get_the_focus_by_default() -> None:
    assert is_small_model("gemma-3-270m-q4_k_m") and is_small_model("qwen2.5-0.5b-instruct")
    assert not is_small_model("qwen2.5-coder-7b") and not is_small_model("llama-3.2-1.5b-q4_k_m")
    assert wants_focus("auto", "gemma-3-270m") and not wants_focus("auto", "qwen2.5-coder-7b")
    assert wants_focus("on", "qwen2.5-coder-7b") and not wants_focus("off", "gemma-3-270m")
    assert replace_lines({"calc.py": [(5, 7)], "x.py": [(1, 1)]}) == 3 + 8


def _run(root: Path, replies: list[str], model: str, focus: str = "auto") -> tuple[Any, list[dict[str, Any]]]:
    config = make_config(test_cmd=PYTEST)
    config.model.constrain = True
    config.model.focus = focus  # type: ignore[assignment]
    config.model.resample = "off"  # the focus through the failure feedback (test_resample.py: the other way)
    config.loop.max_context_requests = 3
    events: list[Any] = []
    with ScriptedServer(replies, model=model) as server:
        result = run_agent(root, server.base_url, events, config=config)
        return result, list(server.requests)


def _grammar(body: dict[str, Any]) -> str:
    return json.dumps(body.get("grammar", ""))


def test_a_small_model_may_edit_only_the_failing_function(make_repo: GitRepoFactory) -> None:
    result, bodies = _run(make_repo(FILES), [BARE_FIX], "gemma-3-270m-q4_k_m")
    assert result.status == "passed", result.message
    grammar = _grammar(bodies[0])
    assert "return total / (len(values) + 1)" in grammar
    assert "return a + b" not in grammar and "keep it small" not in grammar  # add() and notes.md: not offered
    assert "NEED " not in grammar  # the place is known: no context requests


def test_larger_models_and_focus_off_keep_every_file(make_repo: GitRepoFactory) -> None:
    for model, focus in (("qwen2.5-coder-7b", "auto"), ("gemma-3-270m-q4_k_m", "off")):
        root = make_repo(FILES)
        result, bodies = _run(root, [BARE_FIX], model, focus)
        assert result.status == "passed", result.message
        grammar = _grammar(bodies[0])
        assert "return a + b" in grammar and "keep it small" in grammar, (model, focus)


def test_the_focus_outlasts_a_failure_that_names_no_function(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    repair = BARE_FIX.replace("    return total / (len(values) + 1)", "    return total / (len(values)")
    result, bodies = _run(root, [BROKEN, repair], "gemma-3-270m-q4_k_m")
    assert result.status == "passed", result.message
    assert "SyntaxError" in bodies[1]["messages"][-1]["content"] or "never closed" in json.dumps(bodies[1])
    grammar = _grammar(bodies[1])
    assert "return total / (len(values)" in grammar and "return a + b" not in grammar
