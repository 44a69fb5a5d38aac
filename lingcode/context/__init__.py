"""The context engine: which files of a repository a task needs, ranked and rendered within a token budget.

The index lives at `index_path(root)` (inside a git repository: `<git common dir>/lingcode/index.sqlite`);
`lingcode map --clear-cache` deletes it.
"""

from __future__ import annotations

from lingcode.context.engine import Context, RankedFile, build_context, repo_map
from lingcode.context.files import read_file_for_prompt
from lingcode.context.git import GitContext, git_context
from lingcode.context.index import index_path
from lingcode.context.secrets import is_denied, redact
from lingcode.context.symbols import SymbolHit, find_symbol, related_tests

__all__ = [
    "Context",
    "GitContext",
    "RankedFile",
    "SymbolHit",
    "build_context",
    "find_symbol",
    "git_context",
    "index_path",
    "is_denied",
    "read_file_for_prompt",
    "redact",
    "related_tests",
    "repo_map",
]
