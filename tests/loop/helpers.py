"""Shared pieces of the loop tests: a calc repository with a failing test, and the scripted replies."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lingcode.config import Config, LoopConfig, ModelConfig
from lingcode.loop.agent import Agent
from lingcode.loop.outcomes import RunResult
from lingcode.model import ModelClient

CALC = "def average(values):\n    return sum(values) / (len(values) + 1)\n"
TEST = "from calc import average\n\n\ndef test_average():\n    assert average([2, 4, 6]) == 4\n"
CHECK = (
    "from calc import average\n\ngot = average([2, 4, 6])\nassert got == 4, f'average([2, 4, 6]) == {got}'\n"
)
FILES: dict[str, str | bytes] = {"calc.py": CALC, "test_calc.py": TEST, "check_calc.py": CHECK}
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"
QUICK = f"{sys.executable} check_calc.py"
"""A check that starts in milliseconds (pytest takes seconds on a busy machine)."""

FIX = """<think>
Problem: average divides by one too many.
Where: calc.py, average.
Plan: divide by len(values).
Edits: one block.
Check: test_average passes.
</think>
calc.py
<<<<<<< SEARCH
    return sum(values) / (len(values) + 1)
=======
    return sum(values) / len(values)
>>>>>>> REPLACE
"""

WRONG_FIX = """<think>
Maybe subtracting one helps.
</think>
calc.py
<<<<<<< SEARCH
    return sum(values) / (len(values) + 1)
=======
    return sum(values) / (len(values) - 1)
>>>>>>> REPLACE
"""

FIX_AFTER_WRONG = """<think>
Dividing by len - 1 is wrong too; divide by len.
</think>
calc.py
<<<<<<< SEARCH
    return sum(values) / (len(values) - 1)
=======
    return sum(values) / len(values)
>>>>>>> REPLACE
"""

NOT_FOUND = """<think>
Fix it.
</think>
calc.py
<<<<<<< SEARCH
    return something_else()
=======
    return sum(values) / len(values)
>>>>>>> REPLACE
"""

MALFORMED = """<think>
Fix it.
</think>
calc.py
<<<<<<< SEARCH
    return sum(values) / (len(values) + 1)
"""


def make_config(**loop: Any) -> Config:
    """A config for tests: the quick check command, free decoding, no retries of the model."""
    loop.setdefault("test_cmd", QUICK)
    loop.setdefault("test_timeout", 60.0)
    return Config(model=ModelConfig(constrain=False, max_retries=0), loop=LoopConfig(**loop))


def run_agent(
    root: Path,
    base_url: str,
    events: list[Any] | None = None,
    config: Config | None = None,
    **kwargs: Any,
) -> RunResult:
    """Run the Agent against a scripted server; return its result (events go to `events` when given)."""
    config = config or make_config()
    sink: Callable[[Any], None] = events.append if events is not None else (lambda event: None)
    with ModelClient(config.model, base_url) as client:
        return Agent(config, client, root, sink, **kwargs).run("fix the failing test")


def user_messages(request: dict[str, Any]) -> list[str]:
    """The user messages of a recorded request body."""
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


RESULT_SCHEMA = Path(__file__).resolve().parents[2] / "lingcode" / "run" / "result.schema.json"


def valid_result(data: dict[str, Any]) -> dict[str, Any]:
    """`data`, checked against the schema of `run --output-format json` (raises if it breaks it)."""
    import jsonschema

    jsonschema.validate(data, json.loads(RESULT_SCHEMA.read_text(encoding="utf-8")))
    return data
