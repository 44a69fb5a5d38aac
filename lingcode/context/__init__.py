"""The context engine: which files of a repository a task needs, ranked and rendered within a token budget.

The index lives at `index_path(root)` (inside a git repository: `<git common dir>/lingcode/index.sqlite`);
`lingcode map --clear-cache` deletes it.

The public names load on first use (module `__getattr__`): importing this package costs nothing until
one is touched, which keeps the hook path's start-up short.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lingcode.context.engine import Context, RankedFile, build_context, repo_map
    from lingcode.context.files import read_file_for_prompt
    from lingcode.context.git import GitContext, git_context
    from lingcode.context.index import index_path
    from lingcode.context.secrets import is_denied, redact
    from lingcode.context.symbols import SymbolHit, find_symbol, related_tests

_HOMES = {
    "Context": "engine",
    "RankedFile": "engine",
    "build_context": "engine",
    "repo_map": "engine",
    "read_file_for_prompt": "files",
    "GitContext": "git",
    "git_context": "git",
    "index_path": "index",
    "is_denied": "secrets",
    "redact": "secrets",
    "SymbolHit": "symbols",
    "find_symbol": "symbols",
    "related_tests": "symbols",
}

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


def __getattr__(name: str) -> Any:
    """Import the submodule defining `name` on first access and remember the value here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lingcode.context.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
