"""Compiled prompt templates are cached under the user cache directory, and never served stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lingcode.config import cache_home, config_home

PROGRAM = "from lingcode.prompts import render; print(render('edit_rejected', message='M'))"


def render_in_a_new_process() -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    return done.stdout


def test_a_compiled_template_is_cached_and_recompiled_when_its_source_changes() -> None:
    override = config_home() / "prompts" / "edit_rejected.j2"
    override.parent.mkdir(parents=True)
    override.write_text("first: {{ message }}", encoding="utf-8")
    assert render_in_a_new_process() == "first: M\n"
    cached = sorted((cache_home() / "prompts").iterdir())
    assert len(cached) == 1 and cached[0].name.endswith(".cache")
    assert render_in_a_new_process() == "first: M\n"
    override.write_text("second: {{ message }}", encoding="utf-8")
    assert render_in_a_new_process() == "second: M\n"


def test_an_unwritable_cache_only_costs_the_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the cache directory would go
    assert "M" in render_in_a_new_process()
