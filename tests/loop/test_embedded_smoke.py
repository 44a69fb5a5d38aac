"""Smoke test with the real embedded model: whatever Gemma 3 270M says, the loop ends cleanly with a valid
status, the work tree is either fixed, left for `undo`, or untouched, and the run log is complete."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lingcode.cli import run_cli
from lingcode.config import Config, LoopConfig, ModelConfig, ServeConfig, cache_home
from lingcode.events import Finished
from lingcode.loop.agent import Agent
from lingcode.model.embedded import open_model
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FILES, QUICK

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed (pip install 'lingcode[local]')",
    ),
]

STATUSES = {
    "passed", "failed", "tests_failed", "unparseable", "rejected", "limit_iterations", "limit_tokens",
    "repeated_edit", "repeated_failure", "timeout",
}  # fmt: skip
"""Every way a run may end on its own: since edits are held to the failing function (model.focus), the model's
edit applies and the run can end with the tests still failing (tests_failed) instead of a rejection."""


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """XDG_CACHE_HOME for this test: fresh, its models/ shared with the real cache when asked to keep it."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    if os.environ.get("LINGCODE_TEST_KEEP_CACHE"):
        kept = cache_home() / "models"
        kept.mkdir(parents=True, exist_ok=True)
        (cache / "lingcode").mkdir()
        (cache / "lingcode" / "models").symlink_to(kept, target_is_directory=True)
    return cache


@pytest.fixture
def embedded(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(model_cache))
    config = Config(
        serve=ServeConfig(ctx_size=2048),
        model=ModelConfig(max_tokens=128),
        loop=LoopConfig(max_iterations=1, test_cmd=QUICK, wall_time=600, max_format_retries=0),
    )
    yield config
    run_cli(["serve", "--stop"])


def test_loop_ends_cleanly_with_the_embedded_model(make_repo: GitRepoFactory, embedded: Config) -> None:
    root = make_repo(FILES)
    events: list[Any] = []
    with open_model(embedded) as client:
        result = Agent(embedded, client, root, events.append).run("fix the failing test")
    assert result.status in STATUSES, result.message
    assert result.exit_code in (0, 1, 4, 5, 124)
    assert isinstance(events[-1], Finished) and events[-1].status == result.status
    assert result.turns and all(t["constrained"] for t in result.turns)  # llama.cpp takes the grammar
    assert result.log_path is not None
    records = [json.loads(line) for line in Path(result.log_path).read_text().splitlines()]
    assert records[0]["type"] == "start" and records[-1]["type"] == "end"
    for rel in result.files_changed:  # the grammar allows new files; none may land outside the repository
        assert (root / rel).resolve().is_relative_to(root)
