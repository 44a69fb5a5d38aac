"""Shared helpers of the context tests."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import GitRepoFactory

FIXTURES = Path(__file__).parent / "fixtures"


def mini_repo(make_repo: GitRepoFactory) -> Path:
    """A committed git repository holding the files of fixtures/mini."""
    base = FIXTURES / "mini"
    files: dict[str, str | bytes] = {
        p.relative_to(base).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }
    return make_repo(files)
