"""Discovery of model, context window and engine, config overrides, grammar pass-through, token counts."""

from __future__ import annotations

from typing import Any

import pytest

from lingcode.errors import UsageError
from lingcode.model import Constraint, ServerInfo
from tests.model.helpers import MESSAGES, fast_config, scripted_client

GBNF = 'root ::= "yes" | "no"'


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("llama-cpp", ServerInfo("scripted-model", 2048, True, "llama-cpp")),
        ("vllm", ServerInfo("scripted-model", 2048, True, "vllm", version="0.11.0")),
        ("llama-cpp-python", ServerInfo("scripted-model", 4096, True, "llama-cpp-python")),
        ("openai", ServerInfo("scripted-model", 4096, False, "openai")),
    ],
)
def test_discovers_what_each_engine_reports(engine: Any, expected: ServerInfo) -> None:
    with scripted_client([], engine=engine, context_window=2048) as (server, client):
        assert client.info() == expected
        assert client.info() is client.info()
    assert server.hits.count("GET /v1/models") == 1


def test_config_overrides_the_server() -> None:
    config = fast_config(model="my-model", context_window=1000, engine="vllm")
    with scripted_client([], config, engine="llama-cpp") as (_, client):
        info = client.info()
    assert (info.model, info.context_window, info.engine, info.supports_grammar) == (
        "my-model",
        1000,
        "vllm",
        True,
    )


def test_forced_llama_cpp_still_reads_n_ctx() -> None:
    with scripted_client([], fast_config(engine="llama-cpp"), context_window=3000) as (_, client):
        assert client.info().context_window == 3000


def _sent(engine: Any, constraint: Constraint, version: str = "0.11.0") -> dict[str, Any]:
    with scripted_client(["yes"], engine=engine, version=version) as (server, client):
        client.complete(MESSAGES, constraint=constraint)
    body = dict(server.requests[0])
    for key in ("model", "messages", "temperature", "max_tokens", "stream"):
        body.pop(key)
    return body


@pytest.mark.parametrize(
    ("engine", "version", "constraint", "fields"),
    [
        ("llama-cpp", "", Constraint(GBNF), {"grammar": GBNF}),
        ("llama-cpp-python", "", Constraint(GBNF), {"grammar": GBNF}),
        ("vllm", "0.11.0", Constraint(GBNF), {"structured_outputs": {"grammar": GBNF}}),
        ("vllm", "0.9.2", Constraint(GBNF), {"guided_grammar": GBNF}),
        ("vllm", "0.11.0", Constraint("[ab]+", "regex"), {"structured_outputs": {"regex": "[ab]+"}}),
        (
            "vllm",
            "0.8.5",
            Constraint('{"type": "object"}', "json_schema"),
            {"guided_json": {"type": "object"}},
        ),
        (
            "llama-cpp",
            "",
            Constraint('{"type": "object"}', "json_schema"),
            {"json_schema": {"type": "object"}},
        ),
        (
            "llama-cpp-python",
            "",
            Constraint('{"type": "object"}', "json_schema"),
            {"response_format": {"type": "json_object", "schema": {"type": "object"}}},
        ),
        ("openai", "", Constraint(GBNF), {}),
    ],
)
def test_constraint_pass_through(
    engine: Any, version: str, constraint: Constraint, fields: dict[str, Any]
) -> None:
    assert _sent(engine, constraint, version) == fields


def test_constraints_a_server_cannot_take_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="llama-cpp cannot constrain decoding with a regular expression"):
        _sent("llama-cpp", Constraint("[ab]+", "regex"))
    with pytest.raises(UsageError, match="not valid JSON"):
        _sent("vllm", Constraint("{oops", "json_schema"))


@pytest.mark.parametrize("engine", ["llama-cpp", "vllm", "llama-cpp-python"])
def test_count_tokens_uses_the_engines_tokenizer(engine: Any) -> None:
    with scripted_client([], engine=engine) as (server, client):
        assert client.count_tokens("def f(x): return x") == 8
    assert any("tokenize" in hit for hit in server.hits)


def test_count_tokens_is_none_without_a_tokenizer() -> None:
    with scripted_client([], engine="openai") as (_, client):
        assert client.count_tokens("anything") is None
