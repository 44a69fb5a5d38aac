"""Prompt templates: strict rendering, overrides, project instructions, and the rendered system prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from lingcode.config import config_home
from lingcode.edit import parse_reply
from lingcode.errors import ConfigError
from lingcode.loop.stream import split_reasoning
from lingcode.prompts import MAX_INSTRUCTIONS_BYTES, project_instructions, render


def test_missing_variable_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"task\.j2"):
        render("task", context="x")


def test_missing_template_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"nope\.j2"):
        render("nope")


def test_repository_override_beats_user_override_beats_builtin(tmp_path: Path) -> None:
    builtin = render("edit_rejected", message="M")
    assert "M" in builtin
    user_dir = config_home() / "prompts"
    user_dir.mkdir(parents=True)
    (user_dir / "edit_rejected.j2").write_text("user: {{ message }}")
    assert render("edit_rejected", tmp_path, message="M") == "user: M"
    repo_dir = tmp_path / ".lingcode" / "prompts"
    repo_dir.mkdir(parents=True)
    (repo_dir / "edit_rejected.j2").write_text("repo: {{ message }}")
    assert render("edit_rejected", tmp_path, message="M") == "repo: M"


def test_project_instructions_nearest_last_with_claude_fallback(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("root rule\n")
    (tmp_path / "CLAUDE.md").write_text("ignored: AGENTS.md wins\n")
    sub = tmp_path / "pkg" / "mod"
    sub.mkdir(parents=True)
    (tmp_path / "pkg" / "CLAUDE.md").write_text("pkg rule\n")
    (sub / "AGENTS.md").write_text("mod rule\n")
    text = project_instructions(tmp_path, sub)
    assert text.index("root rule") < text.index("pkg rule") < text.index("mod rule")
    assert "ignored" not in text
    assert "# pkg/CLAUDE.md" in text
    assert project_instructions(tmp_path, Path("/")) == "# AGENTS.md\nroot rule\n"


def test_project_instructions_are_capped_keeping_the_nearest(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("far " * 10_000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "AGENTS.md").write_text("NEAR RULE\n")
    text = project_instructions(tmp_path, tmp_path / "sub")
    assert len(text.encode()) <= MAX_INSTRUCTIONS_BYTES + 100
    assert "NEAR RULE" in text and text.startswith("[project instructions truncated]")


def test_system_prompt_example_is_a_valid_reply() -> None:
    system = render("system", instructions="Use tabs.", constrained=False)
    assert "Use tabs." in system and "NEED FILE:" in system
    start = system.index("<think>", system.index("Example."))
    example = system[start : system.index(">>>>>>> REPLACE", start) + len(">>>>>>> REPLACE\n")]
    reasoning, _ = split_reasoning(example)
    assert "Problem:" in reasoning
    edits = parse_reply(example)
    assert [e.path for e in edits] == ["mathutil.py"]


def test_tests_failed_without_a_diff() -> None:
    text = render("tests_failed", command="pytest", output="boom", trimmed=False, diff="")
    assert "boom" in text and "changes so far" not in text


GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "system_free.txt": lambda: render("system", instructions="# AGENTS.md\nUse tabs.\n", constrained=False),
    "system_constrained.txt": lambda: render("system", instructions="", constrained=True),
    "task.txt": lambda: (
        render(
            "task",
            context="calc.py\n```\ndef average(values):\n    return 0\n```",
            task="fix the failing test",
            check_output="E   assert 3.0 == 4",
            check_command="pytest -q",
        )
        + render("format_reminder")
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_prompts_match_their_golden_files(name: str) -> None:
    """A prompt change must be deliberate: re-render the golden file with the new text when it is."""
    assert CASES[name]() == (GOLDEN / name).read_text()
