"""What kind of server answers, and the request shapes that differ between engines.

Discovery reads /v1/models (model name; vLLM's `owned_by: "vllm"` and `max_model_len`), then probes
llama.cpp's /props (its `n_ctx`) and llama-cpp-python's /extras/tokenize/count. Config values win over what
the server says.
Only this module and the client know the engines' JSON shapes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from lingcode.config import ModelConfig
from lingcode.errors import UsageError
from lingcode.model.reply import Constraint, Engine, ServerInfo

DEFAULT_CONTEXT_WINDOW = 4096
"""Assumed when neither the server nor the config names a context window."""

_GRAMMAR_ENGINES: frozenset[Engine] = frozenset({"llama-cpp", "llama-cpp-python", "vllm"})
_FIRST_STRUCTURED_OUTPUTS = (0, 10, 2)
"""The vLLM version that took `structured_outputs` in place of the `guided_*` parameters."""


def server_root(base_url: str) -> str:
    """The server's root URL: the base URL without its trailing /v1 (where /props and /tokenize live)."""
    return re.sub(r"/v1/?$", "", base_url.rstrip("/"))


def fetch_json(http: httpx.Client, method: str, url: str, body: Any = None) -> Any:
    """The JSON a GET or POST answers with, or None when the server answers an error or not JSON.

    Transport errors (cannot connect, dropped connection) propagate: the caller decides about retries.
    """
    response = http.request(method, url, json=body)
    if response.status_code >= 300:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def discover(http: httpx.Client, base_url: str, config: ModelConfig) -> ServerInfo:
    """Ask the server who it is; config.model, config.context_window and config.engine override it."""
    root = server_root(base_url)
    entry = _model_entry(fetch_json(http, "GET", base_url.rstrip("/") + "/models"), config.model)
    engine: Engine
    context: int | None = _positive(entry.get("max_model_len"))
    version: str | None = None
    if config.engine != "auto":
        engine = config.engine
    elif entry.get("owned_by") == "vllm":
        engine = "vllm"
    else:
        engine, n_ctx = _probe_llama(http, root)
        context = context or n_ctx
    if engine == "vllm":
        answer = fetch_json(http, "GET", root + "/version")
        version = str(answer["version"]) if isinstance(answer, dict) and "version" in answer else None
    if engine == "llama-cpp" and context is None and config.engine != "auto":
        context = _probe_llama(http, root)[1]
    return ServerInfo(
        model=config.model or str(entry.get("id") or "default"),
        context_window=config.context_window or context or DEFAULT_CONTEXT_WINDOW,
        supports_grammar=engine in _GRAMMAR_ENGINES,
        engine=engine,
        version=version,
    )


def _model_entry(answer: Any, wanted: str | None) -> dict[str, Any]:
    data = answer.get("data") if isinstance(answer, dict) else None
    entries = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
    for entry in entries:
        if wanted is not None and entry.get("id") == wanted:
            return entry
    return entries[0] if entries else {}


def _probe_llama(http: httpx.Client, root: str) -> tuple[Engine, int | None]:
    props = fetch_json(http, "GET", root + "/props")
    if isinstance(props, dict):
        settings = props.get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return "llama-cpp", _positive(n_ctx) or _positive(props.get("n_ctx"))
    if isinstance(fetch_json(http, "POST", root + "/extras/tokenize/count", {"input": ""}), dict):
        return "llama-cpp-python", None
    return "openai", None


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def constraint_fields(info: ServerInfo, constraint: Constraint) -> dict[str, Any]:
    """The request fields that carry a constraint to this server; {} when it takes none."""
    if not info.supports_grammar:
        return {}
    if constraint.syntax == "json_schema":
        try:
            value: Any = json.loads(constraint.grammar)
        except json.JSONDecodeError as exc:
            raise UsageError(f"the JSON schema constraint is not valid JSON: {exc}") from None
    else:
        value = constraint.grammar
    if info.engine == "vllm":
        key = {"gbnf": "grammar", "regex": "regex", "json_schema": "json"}[constraint.syntax]
        if _version_tuple(info.version) < _FIRST_STRUCTURED_OUTPUTS:
            return {f"guided_{key}": value}
        return {"structured_outputs": {key: value}}
    if constraint.syntax == "gbnf":
        return {"grammar": value}
    if constraint.syntax == "json_schema":
        if info.engine == "llama-cpp":
            return {"json_schema": value}
        return {"response_format": {"type": "json_object", "schema": value}}
    raise UsageError(f"{info.engine} cannot constrain decoding with a regular expression; use a GBNF grammar")


def _version_tuple(version: str | None) -> tuple[int, ...]:
    """(major, minor, patch) of a version string; unknown versions count as new."""
    if version is None:
        return (999,)
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3]) or (999,)


def count_tokens(http: httpx.Client, base_url: str, info: ServerInfo, text: str) -> int | None:
    """Tokens the server's tokenizer makes of text; None when the server has no tokenize endpoint."""
    root = server_root(base_url)
    try:
        if info.engine == "vllm":
            answer = fetch_json(http, "POST", root + "/tokenize", {"model": info.model, "prompt": text})
            return _positive_or_zero(answer.get("count")) if isinstance(answer, dict) else None
        if info.engine == "llama-cpp":
            answer = fetch_json(http, "POST", root + "/tokenize", {"content": text})
            tokens = answer.get("tokens") if isinstance(answer, dict) else None
            return len(tokens) if isinstance(tokens, list) else None
        if info.engine == "llama-cpp-python":
            answer = fetch_json(http, "POST", root + "/extras/tokenize/count", {"input": text})
            return _positive_or_zero(answer.get("count")) if isinstance(answer, dict) else None
    except httpx.HTTPError:
        return None
    return None


def _positive_or_zero(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
