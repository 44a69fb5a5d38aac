"""Shared bits of the model tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from lingcode.config import ModelConfig
from lingcode.model import ModelClient
from lingcode.model.scripted import ScriptedServer, ScriptItem

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}]


def fast_config(**overrides: Any) -> ModelConfig:
    """A ModelConfig whose retries and timeouts suit tests: quick backoff, short deadlines."""
    values: dict[str, Any] = {"retry_backoff": 0.01, "first_token_timeout": 5.0, "idle_timeout": 5.0}
    values.update(overrides)
    return ModelConfig(**values)


@contextmanager
def scripted_client(
    script: Sequence[ScriptItem], config: ModelConfig | None = None, **server_options: Any
) -> Iterator[tuple[ScriptedServer, ModelClient]]:
    """A running ScriptedServer and a ModelClient talking to it."""
    with (
        ScriptedServer(script, **server_options) as server,
        ModelClient(config or fast_config(), server.base_url) as c,
    ):
        yield server, c
