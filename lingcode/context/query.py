"""What a task text points at: file paths, module names, traceback frames and code identifiers."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from lingcode.context.terms import STOPWORDS

_PATHLIKE = re.compile(r"[\w.\-/\\]*[\w\-]+\.[A-Za-z]{1,5}\b")
_DOTTED = re.compile(r"\b[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+\b")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CODE_SPAN = re.compile(r"`([^`\n]+)`|^(?: {4}|\t|>>> ).*$", re.M)
_FILE_SUFFIXES = frozenset(
    [
        "py",
        "pyi",
        "js",
        "mjs",
        "jsx",
        "ts",
        "tsx",
        "go",
        "rs",
        "java",
        "rb",
        "c",
        "h",
        "cpp",
        "cs",
        "txt",
        "cfg",
        "toml",
        "ini",
        "rst",
        "md",
        "json",
        "yml",
        "yaml",
        "html",
        "css",
    ]
)
_FRAME = re.compile(r"""File "([^"]+)", line \d+""")


@dataclass
class Mentions:
    """Files and names a task mentions, each with a weight."""

    files: dict[int, float] = field(default_factory=dict)
    """Record index -> weight, for files named by path, module or traceback frame."""
    names: dict[str, float] = field(default_factory=dict)
    """Identifier -> weight (code-looking identifiers weigh more)."""


class PathLookup:
    """Finds candidate files by a path suffix or a dotted module name."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.paths = paths
        for i, path in enumerate(paths):
            self.by_name[path.rsplit("/", 1)[-1]].append(i)

    def suffix(self, mention: str) -> list[int]:
        """Files whose path ends with the mention, or that the mention (an absolute path) ends with."""
        mention = mention.replace("\\", "/").lstrip("./")
        name = mention.rsplit("/", 1)[-1]
        hits = []
        for i in self.by_name.get(name, ()):
            path = self.paths[i]
            if path == mention or path.endswith("/" + mention) or mention.endswith("/" + path):
                hits.append(i)
        if hits or "/" not in mention:
            return hits
        # an installed copy: .../site-packages/pkg/mod.py ends with the repo's pkg/mod.py or src/pkg/mod.py
        tail = mention.split("/")
        for cut in range(1, len(tail) - 1):
            found = self.suffix("/".join(tail[cut:]))
            if found:
                return found if len(found) <= 3 else []
        return []

    def module(self, dotted: str) -> tuple[list[int], int]:
        """Files of the longest importable prefix of a dotted name, and how many parts it used."""
        parts = dotted.split(".")
        for k in range(len(parts), 0, -1):
            base = "/".join(parts[:k])
            hits = self.suffix(base + ".py") or self.suffix(base + "/__init__.py")
            if hits and (k > 1 or len(hits) == 1):
                return hits, k
        return [], 0


def _is_codey(word: str) -> bool:
    return "_" in word.strip("_") or any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)


def _file_mentions(task: str, lookup: PathLookup, out: Mentions) -> None:
    frames = _FRAME.findall(task)
    for rank, frame in enumerate(frames):
        for i in lookup.suffix(frame):
            # the deepest frames of a traceback sit closest to the fault
            out.files[i] = max(out.files.get(i, 0.0), 0.6 + 0.4 * (rank + 1) / len(frames))
    for match in _PATHLIKE.findall(task):
        if "/" in match or match.rsplit(".", 1)[-1].lower() in _FILE_SUFFIXES:
            for i in lookup.suffix(match):
                out.files[i] = max(out.files.get(i, 0.0), 1.0 if "/" in match else 0.8)


def find_mentions(task: str, lookup: PathLookup, defined: dict[str, int]) -> Mentions:
    """Parse the task for files and names; `defined` maps a name to how many files define it."""
    out = Mentions()
    _file_mentions(task, lookup, out)
    code = " ".join(m.group(0) for m in _CODE_SPAN.finditer(task))
    for dotted in set(_DOTTED.findall(task)):
        hits, used = lookup.module(dotted)
        for i in hits:
            out.files[i] = max(out.files.get(i, 0.0), 0.5 + 0.1 * min(used, 4))
        for name in dotted.split(".")[used:]:
            if name in defined:
                out.names[name] = out.names.get(name, 0.0) + 1.0
    in_code = set(_IDENT.findall(code))
    for word in _IDENT.findall(task):
        if word not in defined or word.lower() in STOPWORDS or len(word) < 3:
            continue
        weight = 1.0 if _is_codey(word) else 0.3
        if word in in_code:
            weight += 0.5
        out.names[word] = out.names.get(word, 0.0) + weight
    return out
