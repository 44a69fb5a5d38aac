"""Slash commands: parsing and completion."""

from __future__ import annotations

import pytest

from lingcode.errors import UsageError
from lingcode.ui.commands import COMMANDS, complete, help_text, parse_command

PATHS = ("src/calc.py", "src/cli.py", "tests/test_calc.py")


@pytest.mark.parametrize(
    ("line", "name", "args"),
    [
        ("/add src/calc.py tests/test_calc.py", "add", ("src/calc.py", "tests/test_calc.py")),
        ("/ADD 'a b.py'", "add", ("a b.py",)),
        ("/test", "test", ()),
        ("  /commit fix the adder  ", "commit", ("fix", "the", "adder")),
    ],
)
def test_parse_command(line: str, name: str, args: tuple[str, ...]) -> None:
    command = parse_command(line)
    assert (command.name, command.args) == (name, args)


def test_parse_keeps_the_raw_text_for_messages() -> None:
    assert parse_command("/run make   add  work").text == "make   add  work"


@pytest.mark.parametrize(
    ("line", "says"), [("/frobnicate", "unknown command /frobnicate"), ("/add 'a", "/add")]
)
def test_parse_rejects_unknown_commands_and_bad_quoting(line: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        parse_command(line)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/ad", "/add "),
        ("/c", "/context "),
        ("/co", "/context "),
        ("/com", "/commit "),
        ("/u", "/undo "),
        ("/", None),
        ("/zz", None),
        ("fix it", None),
        ("/add src/ca", "/add src/calc.py"),
        ("/add src/calc.py tests/", "/add src/calc.py tests/test_calc.py"),
        ("/drop src/cl", "/drop src/cli.py"),
        ("/add src/calc.py", None),
        ("/test src/ca", None),
    ],
)
def test_complete(value: str, expected: str | None) -> None:
    assert complete(value, PATHS) == expected


def test_help_lists_every_command() -> None:
    text = help_text()
    for spec in COMMANDS:
        assert spec.usage in text
    assert "Esc" in text and "Ctrl+C" in text
