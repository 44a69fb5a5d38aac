"""What a review looks at: the diff of the staged index, of a range, or whole files, read straight from git.

`--staged` reads only the index (`git diff --cached`, blobs by `:path`), never the work tree, so a partially
staged file is reviewed exactly as it will be committed. Diffs use `--function-context`, so the model sees
each touched function whole, as it will be after the change.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from lingcode.errors import UsageError

MAX_FILE_DIFF_CHARS = 12_000
"""A file's function-context diff larger than this falls back to a plain 3-line-context diff."""

_HUNK_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,\d+)? @@(?P<header>.*)$")
_GIT_BASE = ("git", "-c", "core.quotepath=off", "-c", "diff.noprefix=false", "-c", "color.ui=never")


@dataclass
class FileDiff:
    """The reviewed change of one file."""

    path: str
    """Repository-relative path of the new version."""
    diff: str
    """Unified diff text of this file (hunks only)."""
    added_lines: list[int] = field(default_factory=list)
    """1-based line numbers, in the new version, of added or changed lines."""
    deleted: bool = False

    def numbered(self) -> str:
        """The hunks with each new-version line numbered, the form the review prompt shows the model."""
        out: list[str] = []
        number = 0
        for line in self.diff.splitlines():
            match = _HUNK_RE.match(line)
            if match:
                number = int(match["start"])
                out.append("     ...")
            elif line.startswith("-"):
                out.append(f"      - {line[1:]}".rstrip())
            elif line.startswith(("+", " ")) or not line:
                out.append(f"{number:5d} {line[:1] or ' '} {line[1:]}".rstrip())
                number += 1
        return "\n".join(out)


@dataclass
class ReviewTarget:
    """Everything a review covers: which mode, the per-file diffs and the touched symbol names."""

    mode: str
    """`staged`, `base:REF`, `worktree` or `paths`."""
    files: list[FileDiff]

    @property
    def paths(self) -> list[str]:
        """Paths of the reviewed files that still exist after the change."""
        return [f.path for f in self.files if not f.deleted]

    def symbols(self) -> list[str]:
        """Names of functions and classes the change touches: defined in a hunk or named in its header."""
        names: list[str] = []
        for file in self.files:
            for line in file.diff.splitlines():
                match = _HUNK_RE.match(line)
                if match:
                    names.extend(_names_in(match["header"], definitions_only=False))
                elif line[:1] in ("+", " "):
                    names.extend(_names_in(line[1:], definitions_only=True))
        return list(dict.fromkeys(names))

    def called_names(self) -> list[str]:
        """Names the added lines call (`name(`), keywords and very short names left out."""
        names: list[str] = []
        for file in self.files:
            for line in file.diff.splitlines():
                if line.startswith("+"):
                    names.extend(n for n in _CALL_RE.findall(line[1:]) if len(n) > 2 and n not in _NOT_CALLS)
        return list(dict.fromkeys(names))


def git_run(root: Path, *args: str, check: bool = True) -> str:
    """Run a read-only git command in `root` and return stdout; failure is a UsageError naming it."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # reading must not take index.lock under a running commit
    result = subprocess.run(
        [*_GIT_BASE, *args], cwd=root, capture_output=True, text=True, env=env, errors="replace", check=False
    )
    if check and result.returncode != 0:
        inside = (
            subprocess.run(
                ["git", "rev-parse", "--git-dir"], cwd=root, capture_output=True, check=False
            ).returncode
            == 0
        )
        if not inside:
            raise UsageError(f"{root} is not in a git repository; there is no diff to review")
        lines = result.stderr.strip().splitlines()
        # git's own verdict is the fatal:/error: line; a usage dump after it says nothing useful
        detail = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), None) or (
            lines[0] if lines else f"exit {result.returncode}"
        )
        raise UsageError(f"git {' '.join(args[:2])} failed in {root}: {detail}")
    return result.stdout


def staged_target(root: Path, paths: list[str]) -> ReviewTarget:
    """The staged change (index against HEAD, or against the empty tree before the first commit)."""
    return ReviewTarget("staged", _diff_files(root, ["--cached"], paths))


def base_target(root: Path, ref: str, paths: list[str]) -> ReviewTarget:
    """The change from the merge base of `ref` and HEAD to HEAD (what a pull request adds)."""
    git_run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return ReviewTarget(f"base:{ref}", _diff_files(root, [f"{ref}...HEAD"], paths))


def worktree_target(root: Path, paths: list[str]) -> ReviewTarget:
    """Uncommitted changes of the work tree against HEAD."""
    return ReviewTarget("worktree", _diff_files(root, ["HEAD"] if _has_head(root) else [], paths))


def paths_target(root: Path, paths: list[str]) -> ReviewTarget:
    """Whole files as they are in the work tree, each shown as if every line were new."""
    files: list[FileDiff] = []
    for rel in paths:
        path = (root / rel).resolve()
        if not path.is_file() or not path.is_relative_to(root):
            raise UsageError(f"{rel}: not a file inside {root}")
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        body = "".join(f"+{line}\n" for line in lines)
        name = path.relative_to(root).as_posix()
        files.append(FileDiff(name, f"@@ -0,0 +1,{len(lines)} @@\n{body}", list(range(1, len(lines) + 1))))
    return ReviewTarget("paths", files)


def staged_blob(root: Path, path: str, revision: str = "") -> str | None:
    """A file's staged content (`git show :path`), or its content at `revision`; None when absent."""
    spec = f"{revision}:{path}"
    result = subprocess.run([*_GIT_BASE, "show", spec], cwd=root, capture_output=True, check=False)
    return result.stdout.decode("utf-8", errors="replace") if result.returncode == 0 else None


def unstaged_paths(root: Path) -> set[str]:
    """Files whose work-tree content differs from the index (and untracked files)."""
    out = git_run(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", check=False)
    changed: set[str] = set()
    for entry in out.split("\0"):
        if len(entry) > 3 and (entry[1] != " " or entry[:2] == "??"):
            changed.add(entry[3:])
    return changed


def _has_head(root: Path) -> bool:
    return bool(git_run(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip())


def _diff_files(root: Path, spec: list[str], paths: list[str]) -> list[FileDiff]:
    # one git process for all files: a 50-file commit must not pay 50 process starts
    paths = [f":(literal){p}" for p in paths]  # a file named `*.py` or `:x` is a name, not a pattern
    base = ["diff", *spec, "--no-ext-diff", "--no-textconv", "--find-renames", "--diff-filter=ACMRD"]
    names = [n for n in git_run(root, *base, "--name-only", "-z", "--", *paths).split("\0") if n]
    if not names:
        return []
    text = git_run(root, *base, "--function-context", "--", *paths)
    chunks = re.split(r"^diff --git ", text, flags=re.MULTILINE)[1:]
    if len(chunks) != len(names):  # an unusual name confused the split: read file by file
        chunks = [git_run(root, *base, "--function-context", "--", n) for n in names]
    files: list[FileDiff] = []
    for name, chunk in zip(names, chunks, strict=True):
        if len(chunk) > MAX_FILE_DIFF_CHARS:
            chunk = git_run(root, *base, "--unified=3", "--", name)
        file = _file_diff(name, chunk)
        if file.diff:  # binary files and mode-only changes have no lines to review
            files.append(file)
    return files


def _file_diff(name: str, text: str) -> FileDiff:
    hunks: list[str] = []
    added: list[int] = []
    deleted = False
    new_line = 0
    in_hunk = False
    for line in text.splitlines():
        match = _HUNK_RE.match(line)
        if match:
            in_hunk = True
            new_line = int(match["start"])
            hunks.append(line)
            continue
        if not in_hunk:
            deleted = deleted or line.startswith("+++ /dev/null")
            continue
        hunks.append(line)
        if line.startswith("+"):
            added.append(new_line)
            new_line += 1
        elif line.startswith(" "):
            new_line += 1
    return FileDiff(name, "\n".join(hunks) + ("\n" if hunks else ""), added, deleted)


_CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_NOT_CALLS = frozenset(
    [
        "if",
        "for",
        "while",
        "with",
        "return",
        "elif",
        "and",
        "not",
        "print",
        "len",
        "str",
        "int",
        "float",
        "list",
        "dict",
        "set",
        "tuple",
        "range",
        "super",
        "self",
        "isinstance",
        "def",
        "class",
        "lambda",
        "assert",
        "yield",
        "await",
        "switch",
        "catch",
        "sizeof",
        "typeof",
        "function",
    ]
)
_DEFINITION_RE = re.compile(
    r"\b(?:def|class|func|fn|function|struct|impl|interface|trait|enum|type)\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)"
)


def _names_in(text: str, *, definitions_only: bool) -> list[str]:
    """Names defined in a line (`def load(path):`, `func (s *S) Run() {`), else the first call in a header."""
    found = _DEFINITION_RE.findall(text)
    if not found and not definitions_only:
        call = re.search(r"([A-Za-z_]\w*)\s*\(", text)
        found = [call[1]] if call else []
    # dunders (__init__) and two-letter names match half a repository and tell the model nothing
    return [n for n in found if len(n) > 2 and not n.startswith("__")]
