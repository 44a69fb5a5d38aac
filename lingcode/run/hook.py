"""`lingcode hook install|uninstall|status`: lingcode's git pre-commit hook.

The hook goes where git looks for hooks (`core.hooksPath` honoured, via `git rev-parse --git-path hooks`).
A pre-commit hook that is already there is not overwritten: it is renamed to `pre-commit.lingcode-chained`
and lingcode's hook runs it first, with the same arguments, and stops with its exit code when it fails.
Marker lines in lingcode's hook record what install found, so uninstall puts back exactly that: the old
hook under its own name, or nothing (and removes a hooks directory install had to create, when empty).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lingcode.errors import UsageError
from lingcode.run.review import HOOK_GUARD_ENV

HOOK_NAME = "pre-commit"
CHAINED_NAME = "pre-commit.lingcode-chained"
MARKER = "# lingcode-hook: v1"
_CHAINED_KEY = "# lingcode-chained: "
_CREATED_DIRS_KEY = "# lingcode-created-dirs: "


@dataclass(frozen=True)
class HookStatus:
    """Where the pre-commit hook lives and whose it is."""

    hooks_dir: Path
    installed: bool
    """lingcode's hook is the pre-commit hook."""
    chained: bool
    """lingcode's hook runs a hook that was there before it."""
    foreign: bool
    """A pre-commit hook that is not lingcode's is installed."""

    def describe(self) -> str:
        """One or two lines for `lingcode hook status`."""
        where = self.hooks_dir / HOOK_NAME
        if self.installed:
            chained = f", running {self.hooks_dir / CHAINED_NAME} first" if self.chained else ""
            return f"installed: {where}{chained}"
        if self.foreign:
            return f"not installed: {where} is another tool's hook (install would chain it)"
        return f"not installed: no pre-commit hook in {self.hooks_dir}"


def hooks_dir(root: Path) -> Path:
    """The directory git runs hooks from, honouring core.hooksPath (relative paths are from the root)."""
    result = subprocess.run(
        ["git", "rev-parse", "--git-path", "hooks"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise UsageError(f"{root}: not a git repository")
    return (root / result.stdout.strip()).resolve()


def status(root: Path) -> HookStatus:
    """Inspect the pre-commit hook without changing anything."""
    directory = hooks_dir(root)
    hook = directory / HOOK_NAME
    text = _read(hook)
    ours = text is not None and MARKER in text
    chained = ours and text is not None and _marker_value(text, _CHAINED_KEY) == CHAINED_NAME
    foreign = (hook.exists() or hook.is_symlink()) and not ours
    return HookStatus(directory, ours, chained, foreign)


def install(root: Path, python: str | None = None) -> HookStatus:
    """Install (or refresh) lingcode's pre-commit hook, chaining any hook that is already there."""
    current = status(root)
    directory = current.hooks_dir
    hook = directory / HOOK_NAME
    chained_path = directory / CHAINED_NAME
    if current.installed:
        text = _read(hook) or ""
        chained = current.chained
        created = _created_levels(text)
    else:
        if current.foreign and (chained_path.exists() or chained_path.is_symlink()):
            raise UsageError(f"{chained_path} already exists; move it away before installing")
        created = _missing_levels(directory)
        directory.mkdir(parents=True, exist_ok=True)
        chained = current.foreign
        if chained:
            os.replace(hook, chained_path)  # keeps the old hook's bytes and mode exactly
    script = hook_script(python or sys.executable, chained=chained, created_dirs=created)
    partial = directory / f".{HOOK_NAME}.lingcode-partial"
    partial.write_text(script, encoding="utf-8")
    partial.chmod(0o755)
    os.replace(partial, hook)
    return status(root)


def uninstall(root: Path) -> HookStatus:
    """Remove lingcode's hook and put back the hook it chained, if any; another tool's hook is left alone."""
    current = status(root)
    if not current.installed:
        return current
    hook = current.hooks_dir / HOOK_NAME
    text = _read(hook) or ""
    chained_path = current.hooks_dir / CHAINED_NAME
    if current.chained and (chained_path.exists() or chained_path.is_symlink()):
        os.replace(chained_path, hook)
    else:
        hook.unlink()
    directory = current.hooks_dir
    for _ in range(_created_levels(text)):
        try:
            directory.rmdir()
        except OSError:
            break  # not empty: something else lives there now
        directory = directory.parent
    return status(root)


def hook_script(python: str, *, chained: bool, created_dirs: int) -> str:
    """The text of lingcode's pre-commit hook (POSIX sh, as git runs hooks)."""
    q_python = shlex.quote(python)
    lines = [
        "#!/bin/sh",
        "# lingcode pre-commit hook: reviews the staged change with your model.",
        "# Installed by `lingcode hook install`; `lingcode hook uninstall` restores what was here before.",
        MARKER,
        f"{_CHAINED_KEY}{CHAINED_NAME if chained else 'none'}",
        f"{_CREATED_DIRS_KEY}{created_dirs}",
    ]
    if chained:
        lines += [
            f'chained="$(dirname -- "$0")/{CHAINED_NAME}"',
            'if [ -x "$chained" ]; then',
            '    "$chained" "$@" || exit $?',
            "fi",
        ]
    lines += [
        f'if [ -n "${{{HOOK_GUARD_ENV}:-}}" ]; then exit 0; fi  # a commit made inside a lingcode hook run',
        f"if [ -x {q_python} ]; then exec {q_python} -m lingcode review --hook --staged; fi",
        "if command -v lingcode >/dev/null 2>&1; then exec lingcode review --hook --staged; fi",
        'echo "lingcode: review skipped: lingcode is not installed for this hook; commit allowed" >&2',
        "exit 0",
    ]
    return "\n".join(lines) + "\n"


def _missing_levels(directory: Path) -> int:
    """How many directories, from `directory` upwards, do not exist yet (install creates them)."""
    levels = 0
    while not directory.exists():
        levels += 1
        directory = directory.parent
    return levels


def _created_levels(text: str) -> int:
    value = _marker_value(text, _CREATED_DIRS_KEY) or "0"
    return int(value) if value.isdigit() else 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def _marker_value(text: str, key: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(key):
            return line[len(key) :].strip()
    return None
