"""Safety properties, checked on generated inputs: reading findings never fails or invents files, and
installing then uninstalling the hook puts back exactly what was there."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lingcode.run import hook
from lingcode.run.review_findings import parse_findings

REVIEWED = ["src/app.py", "lib/io.py"]
LINE_PIECES = st.sampled_from(
    ["FINDING:", "FINDINGS:", "src/app.py", "lib/io.py", "other.py", ":", " ", "12", "0", "error", "nit",
     "warning", "-", "**", "`", "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE", "THINK", "END THINK", "\n"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(LINE_PIECES, st.text(max_size=8)), max_size=40).map("".join))
def test_findings_only_name_reviewed_files(text: str) -> None:
    for finding in parse_findings(text, REVIEWED):
        assert finding.path in REVIEWED
        assert finding.line >= 1
        assert finding.severity in ("info", "warning", "error")
        assert finding.message.strip()


@settings(max_examples=15, deadline=None)
@given(
    existing=st.one_of(st.none(), st.binary(max_size=200)),
    mode=st.sampled_from([0o755, 0o700, 0o644, 0o600]),
    hooks_path=st.sampled_from([None, "hooks", "tools/git/hooks"]),
)
def test_install_then_uninstall_restores_exactly(
    existing: bytes | None, mode: int, hooks_path: str | None
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
        subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
        if hooks_path:
            subprocess.run(["git", "config", "core.hooksPath", hooks_path], cwd=root, check=True, env=env)
        directory = hook.hooks_dir(root)
        if existing is not None:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "pre-commit").write_bytes(existing)
            (directory / "pre-commit").chmod(mode)
        before = snapshot(root)
        hook.install(root, python="/usr/bin/python3")
        hook.install(root, python="/usr/bin/python3")  # a refresh must not lose what install saved
        assert hook.status(root).installed
        hook.uninstall(root)
        assert snapshot(root) == before


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every path under the root outside .git/objects and .git/refs, with bytes and mode (None: a folder)."""
    found: dict[str, tuple[bytes, int] | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".git/objects", ".git/refs", ".git/logs")):
            continue
        found[rel] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) if path.is_file() else None
    return found
