"""Context requests end to end: a scripted first reply asks, the answer comes back, the second reply edits
what it found and the checks pass; bad requests get a short answer and never content from outside the tree."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lingcode.cli import run_cli
from lingcode.events import ContextRequested
from lingcode.loop.trajectory import iter_runs
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FILES, FIX, QUICK, make_config, run_agent, user_messages

OUTSIDE_MARK = "OUTSIDE-THE-TREE-7f3a"
SECRET_MARK = "SECRET-VALUE-91c2"
CLI = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", "fix the failing test"]


def _ask(*lines: str) -> str:
    return "<think>\nI need to see more first.\n</think>\n" + "".join(f"{line}\n" for line in lines)


def _round_trip(root: Path, ask: str, **loop: Any) -> tuple[Any, str, list[Any]]:
    """Run [ask, FIX]; return the result, the answer the model got, and the events."""
    events: list[Any] = []
    with ScriptedServer([ask, FIX]) as server:
        result = run_agent(root, server.base_url, events, config=make_config(**loop))
        answer = user_messages(server.requests[1])[-1]
    return result, answer, events


@pytest.mark.parametrize(
    ("request_line", "expected"),
    [
        ("NEED FILE: calc.py", "return sum(values) / (len(values) + 1)"),
        ("NEED LINES: calc.py:2-2", "2|     return sum(values) / (len(values) + 1)"),
        ("NEED SYMBOL: average", "calc.py:1 (function"),
        ("NEED CALLERS: average", "test_calc.py:5: assert average([2, 4, 6]) == 4"),
        ("NEED SEARCH: len(values) + 1", "calc.py:2: return sum(values) / (len(values) + 1)"),
        (r"NEED REGEX: ^\s+return sum\(\w+\) / \(len", "calc.py:2: return sum(values) / (len(values) + 1)"),
        ("NEED LIST: .", "calc.py"),
    ],
    ids=["file", "lines", "symbol", "callers", "search", "regex", "list"],
)
def test_each_kind_is_answered_and_the_next_reply_edits_what_it_found(
    make_repo: GitRepoFactory, request_line: str, expected: str
) -> None:
    root = make_repo(FILES)
    result, answer, events = _round_trip(root, _ask(request_line))
    assert expected in answer
    assert (result.status, result.iterations) == ("passed", 1)  # the request was not an edit round
    kind = request_line.split()[1].rstrip(":").lower()
    assert result.context_requests == {kind: 1}
    shown = [e for e in events if isinstance(e, ContextRequested)]
    assert [(e.kind, e.answered) for e in shown] == [(kind, True)] and expected in shown[0].answer


def _hostile_repo(make_repo: GitRepoFactory) -> Path:
    """The calc repository beside a file outside it, with a symlink out, a .env and an id_rsa inside."""
    root = make_repo({**FILES, ".env": f"TOKEN={SECRET_MARK}\n", "id_rsa": f"{SECRET_MARK}\n"})
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text(f"{OUTSIDE_MARK}\n")
    os.symlink(outside, root / "linked")
    os.symlink(outside / "data.txt", root / "link.txt")
    return root


@pytest.mark.parametrize(
    ("request_line", "refusal"),
    [
        ("NEED FILE: ../outside/data.txt", "leaves the repository"),
        ("NEED FILE: {outside}/data.txt", "absolute paths are refused"),
        ("NEED FILE: link.txt", "outside the repository"),
        ("NEED LINES: linked/data.txt:1-5", "outside the repository"),
        ("NEED LIST: linked", "no such folder"),
        ("NEED LIST: ..", "leaves the repository"),
        ("NEED FILE: .env", "may hold secrets"),
        ("NEED LINES: id_rsa:1-1", "may hold secrets"),
        ("NEED FILE: .git/config", "may hold secrets"),
        (f"NEED SEARCH: {OUTSIDE_MARK}", "(no matches)"),
        (f"NEED SEARCH: {SECRET_MARK}", "(no matches)"),
        ("NEED SYMBOL: no_such_function", "(no definition found)"),
        ("NEED CALLERS: no_such_function", "(no references found"),
        ("NEED REGEX: ([unclosed", "bad regular expression"),
        ("NEED LINES: calc.py:50-60", "calc.py has 2 lines"),
        ("NEED LINES: calc.py", "write the range as path:START-END"),
    ],
)
def test_bad_requests_get_a_short_answer_and_nothing_from_outside(
    make_repo: GitRepoFactory, request_line: str, refusal: str
) -> None:
    root = _hostile_repo(make_repo)
    line = request_line.replace("{outside}", str(root.parent / "outside"))
    result, answer, events = _round_trip(root, _ask(line))
    assert refusal in answer
    shown = [e for e in events if isinstance(e, ContextRequested)]
    assert [e.answered for e in shown] == [False]
    echoed = answer.replace(shown[0].title, "")  # a search's title repeats its pattern
    assert OUTSIDE_MARK not in echoed + shown[0].answer and SECRET_MARK not in echoed + shown[0].answer
    assert result.status == "passed"


def test_a_huge_range_is_capped_and_says_how_to_go_on(make_repo: GitRepoFactory) -> None:
    long = "".join(f"value_{n} = {n}\n" for n in range(1, 1001))
    root = make_repo({**FILES, "table.py": long})
    result, answer, _ = _round_trip(root, _ask("NEED LINES: table.py:1-99999999"), request_lines=50)
    assert "50| value_50 = 50" in answer and "value_51 =" not in answer
    assert "ask for 51-99999999 next" in answer
    assert result.status == "passed"


def test_a_catastrophic_regex_is_stopped_by_its_timeout(make_repo: GitRepoFactory) -> None:
    root = make_repo({**FILES, "runs.txt": "x" * 40 + "\n"})
    result, answer, _ = _round_trip(root, _ask("NEED REGEX: (x|xx)+y"), search_seconds=0.3)
    assert "the search took too long" in answer
    assert result.status == "passed"


def test_answers_are_cut_to_the_token_budget(make_repo: GitRepoFactory) -> None:
    big = "".join(f"def function_{n}():\n    return {n}\n\n" for n in range(2000))
    root = make_repo({**FILES, "big.py": big})
    result, answer, _ = _round_trip(root, _ask("NEED FILE: big.py", "NEED FILE: calc.py"), request_tokens=600)
    assert "cut to fit the context budget" in answer
    assert "function_1999" not in answer
    assert "return sum(values) / (len(values) + 1)" in answer  # the other request kept its share
    assert result.context_requests == {"file": 2}


def test_requests_are_bounded_per_turn(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    ask = _ask(*(f"NEED SEARCH: word{n}" for n in range(4)))
    result, answer, _ = _round_trip(root, ask, max_requests_per_turn=2)
    assert answer.count("(no matches)") == 2
    assert answer.count("at most 2 requests per reply") == 2
    assert result.status == "passed"


def test_requests_are_bounded_per_run(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    config = make_config(max_context_requests=1)
    with ScriptedServer([_ask("NEED FILE: calc.py"), _ask("NEED LIST: ."), FIX]) as server:
        result = run_agent(root, server.base_url, config=config)
        second, third = user_messages(server.requests[1])[-1], user_messages(server.requests[2])[-1]
    assert "return sum(values)" in second
    assert "no more context requests this run" in third and "calc.py\ntest_calc.py" not in third
    assert (result.status, result.context_requests) == ("passed", {"file": 1})


def test_requests_are_logged_in_the_trajectory(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    _round_trip(root, _ask("NEED SEARCH: average", "NEED FILE: ../x"))
    (records,) = list(iter_runs(root))
    logged = [r for r in records if r["type"] == "context_requests"]
    assert len(logged) == 1
    kinds = [(r["kind"], r["target"], r["answered"]) for r in logged[0]["requests"]]
    assert kinds == [("search", "average", True), ("file", "../x", False)]
    assert all(r["tokens"] > 0 for r in logged[0]["requests"])


def test_json_output_counts_requests_by_kind(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    ask = _ask("NEED FILE: calc.py", "NEED SEARCH: average", "NEED SEARCH: values")
    with ScriptedServer([ask, FIX]) as server:
        code = run_cli(
            [
                *CLI,
                "--root",
                str(root),
                "--model-url",
                server.base_url,
                "--test-cmd",
                QUICK,
                "--output-format",
                "json",
            ]
        )
    out, err = capsys.readouterr()
    result = json.loads(out.strip().splitlines()[-1])
    assert code == 0
    assert "lingcode: the model asked for search values" in err
    assert result["context_requests"] == {"file": 1, "search": 2}


def test_constrained_runs_offer_and_answer_requests(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    config = make_config(max_context_requests=1)
    config.model.constrain = True
    with ScriptedServer([_ask("NEED LINES: calc.py:1-2"), FIX]) as server:
        result = run_agent(root, server.base_url, config=config)
        first, second = (str(server.requests[n].get("grammar", "")) for n in (0, 1))
        answer = user_messages(server.requests[1])[-1]
    assert result.status == "passed" and "1| def average(values):" in answer
    assert '"NEED "' in first
    assert '"NEED "' not in second  # the run's allowance is spent: the grammar asks for edits only


def test_no_allowance_means_no_requests_taught_or_offered(make_repo: GitRepoFactory) -> None:
    root = make_repo(FILES)
    config = make_config(max_context_requests=0)
    config.model.constrain = True
    with ScriptedServer([FIX]) as server:
        assert run_agent(root, server.base_url, config=config).status == "passed"
        body = server.requests[0]
    assert "NEED FILE" not in body["messages"][0]["content"]
    assert '"NEED "' not in str(body.get("grammar", ""))
