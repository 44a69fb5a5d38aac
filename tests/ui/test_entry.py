"""`lingcode` with no subcommand: the entry point into the interactive session."""

from __future__ import annotations

import pytest

from lingcode.cli import run_cli
from tests.conftest import GitRepoFactory
from tests.ui.harness import FILES


def test_without_a_terminal_it_says_what_to_use_instead(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(FILES)
    assert run_cli(["--root", str(root)]) == 2  # pytest's stdin is not a terminal
    assert "needs a terminal" in capsys.readouterr().err


def test_styles_ship_inside_the_package() -> None:
    from importlib.resources import files

    from lingcode.ui.app import LingcodeApp

    assert LingcodeApp.CSS_PATH == "app.tcss"
    assert files("lingcode.ui").joinpath("app.tcss").is_file()
