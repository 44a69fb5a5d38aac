"""Fixtures shared by every test area: real temporary git repositories and an isolated user environment."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "lingcode-test",
    "GIT_AUTHOR_EMAIL": "test@lingcode.invalid",
    "GIT_COMMITTER_NAME": "lingcode-test",
    "GIT_COMMITTER_EMAIL": "test@lingcode.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and the XDG dirs at a fresh folder so no test reads or writes the real user's files.

    The model cache (XDG_CACHE_HOME) is kept where it was when LINGCODE_TEST_KEEP_CACHE is set, so the
    integration tests do not assemble the 253 MB GGUF again for every test.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))  # no user's default adapter
    if not os.environ.get("LINGCODE_TEST_KEEP_CACHE"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in list(os.environ):
        if name.startswith("LINGCODE_") and name != "LINGCODE_TEST_KEEP_CACHE":
            monkeypatch.delenv(name)
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    return home


def git(cwd: Path, *args: str) -> str:
    """Run git in cwd and return its stdout; raise on failure."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    return result.stdout


GitRepoFactory = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> Iterator[GitRepoFactory]:
    """Return a factory: files (relative path -> text or bytes) -> a committed git repository's root."""
    counter = 0

    def factory(files: dict[str, str | bytes]) -> Path:
        nonlocal counter
        counter += 1
        root = tmp_path / f"repo{counter}"
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", newline="")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial", "--allow-empty")
        return root

    yield factory
