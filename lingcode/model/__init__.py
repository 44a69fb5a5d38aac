"""The model layer: an OpenAI-compatible client, the embedded and vLLM servers, and a scripted test server.

Only this package knows the OpenAI JSON shapes; the rest of lingcode sees `ModelClient.complete` -> `Reply`.
The names below are imported on first use: the pre-commit hook needs the client, not the embedded server's
management (benchmarks/hook.py counts every millisecond of start-up).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

# httpx imports its optional command-line client, and with it rich and pygments (about 40 ms of CPU), when
# those are installed; lingcode never runs it. Without the module httpx falls back to a stub `httpx.main`.
# Every import of httpx in lingcode goes through this package, so this runs first.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from lingcode.model.client import ModelClient
    from lingcode.model.embedded import open_model
    from lingcode.model.reply import Constraint, Reply, ServerInfo

__all__ = ["Constraint", "ModelClient", "Reply", "ServerInfo", "open_model"]

_LAZY = {
    "Constraint": "lingcode.model.reply",
    "ModelClient": "lingcode.model.client",
    "Reply": "lingcode.model.reply",
    "ServerInfo": "lingcode.model.reply",
    "open_model": "lingcode.model.embedded",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        # an AttributeError also lets `from lingcode.model import process` import the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
