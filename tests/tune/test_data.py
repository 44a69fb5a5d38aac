"""The training-task generator: every reply parses and undoes its break, the output depends on the seed alone,
and the split is by file."""

from __future__ import annotations

import ast
import io
import json
import random
from pathlib import Path

import pytest

from lingcode.edit import apply_edits, parse_reply
from lingcode.tune.breakage import BREAKERS, remove_line, shift_result
from lingcode.tune.data import file_window, is_validation, tasks_for_file, write_tasks
from tests.tune.sample import SOURCE, make_repo


def test_every_reply_parses_and_restores_the_function(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"pkg/mod.py": SOURCE})
    tasks = list(tasks_for_file(repo, "pkg/mod.py", random.Random(1)))
    assert len(tasks) == 4
    for task in tasks:
        assert task.broken != task.original
        assert [m["role"] for m in task.messages] == ["system", "user", "assistant"]
        assert task.broken in task.messages[1]["content"]
        work = tmp_path / f"apply-{task.function}"
        (work / "pkg").mkdir(parents=True)
        (work / "pkg/mod.py").write_text(SOURCE.replace(task.original, task.broken), encoding="utf-8")
        result = apply_edits(parse_reply(task.messages[2]["content"]), work)
        assert result.ok, task.messages[2]["content"]
        assert (work / "pkg/mod.py").read_text(encoding="utf-8") == SOURCE


def test_output_depends_on_the_seed_alone(tmp_path: Path) -> None:
    files = {f"m{i}.py": SOURCE for i in range(6)}
    repo = make_repo(tmp_path / "repo", files)

    def generate(seed: int) -> str:
        train, valid = io.StringIO(), io.StringIO()
        write_tasks(repo, seed, 0.0, train, valid)  # nothing held out: only the breaks can differ
        return train.getvalue() + "|" + valid.getvalue()

    assert generate(5) == generate(5)
    assert generate(5) != generate(6)


def test_split_is_by_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {f"m{i}.py": SOURCE for i in range(20)})
    train, valid = io.StringIO(), io.StringIO()
    counts = write_tasks(repo, 2, 0.3, train, valid)
    train_paths = {json.loads(line)["path"] for line in train.getvalue().splitlines()}
    valid_paths = {json.loads(line)["path"] for line in valid.getvalue().splitlines()}
    assert counts[0] > 0 and counts[1] > 0
    assert not train_paths & valid_paths
    assert valid_paths == {f"m{i}.py" for i in range(20) if is_validation(f"m{i}.py", 2, 0.3)}


@pytest.mark.parametrize("kind", sorted(BREAKERS))
def test_each_breaker_changes_the_function(kind: str) -> None:
    lines = SOURCE.splitlines(keepends=True)[20:26]  # total()
    broken = BREAKERS[kind](lines, random.Random(0), ["clamp", "total", "window"])
    assert broken is not None and broken != lines
    assert broken[0] == lines[0]  # the signature, which names the function, is never broken


def test_remove_line_keeps_blocks_whole() -> None:
    lines = ["def f(x):\n", "    if x:\n", "        return 1\n", "    return 2\n"]
    for seed in range(20):
        broken = remove_line(lines, random.Random(seed), [])
        assert broken is None or ("    if x:\n" in broken and "        return 1\n" in broken)


def test_remove_line_never_empties_a_block() -> None:
    lines = [
        "def f(x):\n",
        "    try:\n",
        "        return g(x)\n",
        "    except ValueError:\n",
        "        return 0\n",
    ]
    lines += ["    y = 1\n", "    if y:  # a comment after the colon\n", "        y = 2\n", "    return y\n"]
    for seed in range(20):
        broken = remove_line(lines, random.Random(seed), [])
        assert broken is None or ast.parse("".join(broken))


def test_the_prompt_has_a_real_runs_shape(tmp_path: Path) -> None:
    """The broken function is shown among the file's others, under the context's headers, and the task names
    it: trained on the function alone, the adapter learned to edit whatever function came first."""
    repo = make_repo(tmp_path / "repo", {"pkg/mod.py": SOURCE, "pkg/other.py": "VALUE = 1\n"})
    tasks = list(tasks_for_file(repo, "pkg/mod.py", random.Random(3), ["pkg/other.py"]))
    assert tasks
    for task in tasks:
        user = task.messages[1]["content"]
        assert "## Files\n" in user and "### pkg/mod.py\n```\n" in user
        assert "## Repository map" in user
        shown = user.split("### pkg/mod.py\n```\n", 1)[1]
        assert shown.startswith('"""A small module') and "def both(" in shown  # the whole (small) file
        assert task.broken in shown and task.original not in shown
        assert task.function in user.rsplit("Task:", 1)[1]
    assert any("### pkg/other.py" in t.messages[1]["content"] for t in tasks)


def test_a_long_file_is_shown_around_the_function() -> None:
    lines = [f"line {i}\n" for i in range(1000)]
    window = file_window(lines, 500, 510, limit=400)
    assert "line 500\n" in window and "line 509\n" in window
    assert len(window) <= 400 and "line 0\n" not in window
    assert file_window(lines[:5], 1, 2, limit=400) == "".join(lines[:5])


def test_other_files_come_from_the_same_side_of_the_split(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {f"m{i}.py": SOURCE for i in range(20)})
    train, valid = io.StringIO(), io.StringIO()
    write_tasks(repo, 2, 0.3, train, valid)
    held_out = {f"m{i}.py" for i in range(20) if is_validation(f"m{i}.py", 2, 0.3)}
    for line in train.getvalue().splitlines():
        user = json.loads(line)["messages"][1]["content"]
        assert not any(f"### {p}\n" in user for p in held_out)


def test_shift_result_nudges_only_a_call_an_expression_uses() -> None:
    lines = [
        "def f(x):\n",
        "    print(x)\n",
        "    x.sort().reverse()\n",
        "    y = len(x) // 2\n",
        "    return max(x)\n",
    ]
    seen = set()
    for seed in range(30):
        broken = shift_result(lines, random.Random(seed), [])
        assert broken is not None
        seen.add(next(line for line, old in zip(broken, lines, strict=True) if line != old))
    assert seen == {"    return max(x) + 1\n", "    return max(x) - 1\n"}  # not print(), a chain, or `// 2`
