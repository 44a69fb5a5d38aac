"""The real `lingcode` in a real terminal (tmux): a task, review, accept, tests pass, undo, quit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ui.tmux_smoke import run_smoke


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux)")
def test_lingcode_in_tmux(tmp_path: Path) -> None:
    screens = run_smoke(tmp_path)
    assert "scripted-model" in screens["open"]
    assert "Review edits to 1 file(s)" in screens["review"]
    assert "Tests pass" in screens["tested"]
    assert "Traceback" not in "".join(screens.values())
    assert "LINGCODE-EXIT=0" in screens["quit"]
