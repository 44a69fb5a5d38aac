"""The agent loop end to end: real temp git repos, a real scripted HTTP server, real pytest runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lingcode.events import CheckFinished, EditsApplied, Finished, ModelDelta
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.loop.helpers import (
    FILES,
    FIX,
    FIX_AFTER_WRONG,
    PYTEST,
    WRONG_FIX,
    make_config,
    run_agent,
    user_messages,
)


def test_failing_test_fixed_in_one_round(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    events: list[Any] = []
    with ScriptedServer([FIX]) as server:
        result = run_agent(root, server.base_url, events, make_config(test_cmd=PYTEST))
    assert result.status == "passed", result.message
    assert result.exit_code == 0
    assert result.iterations == 1
    assert result.tests_passed is True
    assert result.files_changed == ("calc.py",)
    assert "return sum(values) / len(values)" in (root / "calc.py").read_text()
    assert "+    return sum(values) / len(values)" in result.diff
    # the first check ran before the model and its failure reached the task message
    assert "assert 3.0 == 4" in user_messages(server.requests[0])[0]
    kinds = [type(e) for e in events]
    assert EditsApplied in kinds and Finished in kinds
    assert any(isinstance(e, ModelDelta) and e.reasoning for e in events)
    assert any(isinstance(e, ModelDelta) and not e.reasoning for e in events)
    assert [e.passed for e in events if isinstance(e, CheckFinished)] == [
        False,
        True,
        True,
    ]  # before; related tests; full command


def test_wrong_fix_corrected_after_failure_feedback(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([WRONG_FIX, FIX_AFTER_WRONG]) as server:
        result = run_agent(root, server.base_url)
        second = server.requests[1]
    assert result.status == "passed", result.message
    assert result.iterations == 2
    feedback = user_messages(second)[-1]
    assert "still fails" in feedback
    assert "average([2, 4, 6]) == 6.0" in feedback  # the failure of the wrong fix: 12 / 2
    assert "+    return sum(values) / (len(values) - 1)" in feedback  # the diff so far


def test_prefix_is_byte_stable_across_turns(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    with ScriptedServer([WRONG_FIX, FIX_AFTER_WRONG]) as server:
        run_agent(root, server.base_url)
        first, second = server.requests[0]["messages"], server.requests[1]["messages"]
    assert second[: len(first)] == first
    assert json.dumps(second[: len(first)]) == json.dumps(first)
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == WRONG_FIX


def test_constrained_decoding_sends_the_grammar_of_the_files_in_context(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    config = make_config()
    config.model.constrain = True
    with ScriptedServer([FIX]) as server:  # it mimics llama.cpp, which takes a grammar
        result = run_agent(root, server.base_url, config=config)
        body = server.requests[0]
    assert result.status == "passed"
    assert "return sum(values) / (len(values) + 1)" in json.dumps(body.get("grammar", ""))
    system = body["messages"][0]["content"]
    assert "NEED FILE" in system  # the grammar offers context requests beside the edits
    assert '"NEED "' in str(body.get("grammar", ""))
    assert "reply with <think>" not in body["messages"][1]["content"].lower()  # no format reminder either


def _first_requests(root: Path, tasks: tuple[str, ...]) -> list[dict[str, Any]]:
    """The first request body of a constrained run per task, the tree restored between runs."""
    from lingcode.loop.agent import Agent
    from lingcode.model import ModelClient

    config = make_config()
    config.model.constrain = True
    bodies = []
    for task in tasks:
        with ScriptedServer([FIX]) as server, ModelClient(config.model, server.base_url) as client:
            Agent(config, client, root, lambda event: None).run(task)
            bodies.append(server.requests[0])
        git(root, "checkout", "-q", "--", ".")
    return bodies


def _block_rule(request: dict[str, Any]) -> str:
    grammar = str(request.get("grammar", ""))
    return next(line for line in grammar.splitlines() if line.startswith("block ::="))


def _root_rule(request: dict[str, Any]) -> str:
    grammar = str(request.get("grammar", ""))
    return next(line for line in grammar.splitlines() if line.startswith("root ::="))


def test_constrained_grammar_offers_new_files_only_when_the_task_names_one(make_repo: GitRepoFactory) -> None:
    # a small model offered a free new-file path invents files (e.g. "Code") instead of fixing the real one
    tasks = ("fix the failing test", "add docs/usage.md explaining average()")
    blocks = [_block_rule(body) for body in _first_requests(make_repo(FILES), tasks)]
    assert "new-file" not in blocks[0]
    assert "new-file" in blocks[1]


def test_constrained_grammar_keeps_tests_read_only_unless_the_task_asks(make_repo: GitRepoFactory) -> None:
    # a small model free to edit the failing test "fixes" it by deleting the assertion
    tasks = ("fix the failing test", "add a test for average of one value")
    grammars = [json.dumps(body.get("grammar", "")) for body in _first_requests(make_repo(FILES), tasks)]
    assert "return sum(values) / (len(values) + 1)" in grammars[0]
    assert "assert average([2, 4, 6]) == 4" not in grammars[0]
    assert "assert average([2, 4, 6]) == 4" in grammars[1]


def test_small_models_are_asked_for_edits_without_reasoning(make_repo: GitRepoFactory) -> None:
    # a 270M model's reasoning section is noise that costs most of its reply: auto leaves it out for
    # models under 1B parameters (by the served name), in the prompt and in the grammar
    root = make_repo(FILES)
    config = make_config(test_cmd=PYTEST)
    config.model.constrain = True
    bare_fix = FIX[FIX.index("</think>\n") + len("</think>\n") :]
    bodies = {}
    for name in ("gemma-3-270m-q4_k_m", "qwen2.5-coder-7b"):
        with ScriptedServer([bare_fix], model=name) as server:
            result = run_agent(root, server.base_url, config=config)
            bodies[name] = server.requests[0]
        assert result.status == "passed", result.message
        git(root, "checkout", "-q", "--", ".")
    small, large = bodies["gemma-3-270m-q4_k_m"], bodies["qwen2.5-coder-7b"]
    assert "<think>" not in small["messages"][0]["content"]
    assert "reasoning" not in _root_rule(small)
    assert "<think>" not in str(small["grammar"])  # no rule for an unreachable section either
    assert "<think>" in large["messages"][0]["content"]
    assert "reasoning" in _root_rule(large)


def test_small_model_reasoning_can_be_switched_on(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    config = make_config()
    config.model.constrain = True
    config.model.reasoning = "on"
    with ScriptedServer([FIX], model="gemma-3-270m-q4_k_m") as server:
        run_agent(root, server.base_url, config=config)
        body = server.requests[0]
    assert "reasoning" in _root_rule(body) and "<think>" in body["messages"][0]["content"]


def test_a_block_repeated_word_for_word_counts_once(make_repo: GitRepoFactory) -> None:
    # the embedded model, lost, wrote the same block four times: the copies can no longer find their SEARCH
    # once the first applied, which refused the whole reply
    root = make_repo(FILES)
    block = FIX[FIX.index("calc.py\n") :]
    with ScriptedServer([FIX + "\n" + block + "\n" + block]) as server:
        result = run_agent(root, server.base_url, config=make_config(test_cmd=PYTEST))
    assert result.status == "passed", result.message
    assert result.iterations == 1
