"""Settings: pydantic models, where they come from, and which of them a repository may set.

Sources, highest first: command-line flags, `-c key.path=value`, `LINGCODE_SECTION_KEY` environment
variables, the project file `.lingcode/config.toml`, the user file `$XDG_CONFIG_HOME/lingcode/config.toml`,
then the defaults below.

A repository is untrusted (it may be a stranger's clone), so its project file may not point the model at a
non-loopback host, set commands that run, or switch safety settings off, unless the user's own file says so
in its `[trust]` section.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lingcode.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(_Section):
    """How to reach the model server."""

    base_url: str | None = None
    """OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1; unset starts the embedded server."""
    model: str | None = None
    """Model name to request; unset asks the server (/v1/models)."""
    api_key: str | None = None
    """Bearer token, if the server wants one."""
    context_window: int | None = Field(default=None, gt=0)
    """Context window in tokens; unset asks the server (vLLM max_model_len, llama.cpp /props)."""
    connect_timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for a TCP connection."""
    first_token_timeout: float = Field(default=180.0, gt=0)
    """Seconds to wait for the first streamed token (prompt reading on a CPU is slow)."""
    idle_timeout: float = Field(default=60.0, gt=0)
    """Seconds a stream may stay silent between chunks."""
    max_retries: int = Field(default=3, ge=0, le=10)
    """Retries on connection errors, 429/5xx and streams that drop before any content."""
    temperature: float = Field(default=0.0, ge=0, le=2)
    """Sampling temperature; 0 keeps runs reproducible."""
    max_tokens: int = Field(default=2048, gt=0)
    """Most tokens one reply may have."""
    constrain: bool = True
    """Constrain decoding with the edit grammar where the server supports it."""
    engine: Literal["auto", "llama-cpp", "llama-cpp-python", "vllm", "openai"] = "auto"
    """Which server software answers (it decides how grammars are sent); auto asks the server."""
    retry_backoff: float = Field(default=0.5, ge=0)
    """Seconds before the first retry; doubled for each further one (a Retry-After header wins)."""


class ServeConfig(_Section):
    """How `lingcode serve` (and the automatic embedded server) runs a model."""

    engine: Literal["llama-cpp", "vllm"] = "llama-cpp"
    """Which server to start."""
    model_path: str | None = None
    """A GGUF file for llama-cpp; unset uses the embedded Gemma 3 270M."""
    vllm_model: str = "inclusionAI/Ling-Coder-lite"
    """Model id or path for vLLM."""
    host: str = "127.0.0.1"
    """Address the server binds to."""
    port: int = Field(default=0, ge=0, le=65535)
    """Port; 0 picks a free one."""
    threads: int | None = Field(default=None, gt=0)
    """CPU threads for llama.cpp; unset uses all cores."""
    ctx_size: int = Field(default=8192, gt=0)
    """llama.cpp context size in tokens."""
    chat_format: str | None = None
    """llama-cpp-python chat format; unset: "gemma" for the embedded model, else the GGUF's own template."""
    startup_timeout: float = Field(default=300.0, gt=0)
    """Seconds to wait for the server to become healthy."""
    max_model_len: int | None = Field(default=None, gt=0)
    """vLLM --max-model-len."""
    tensor_parallel_size: int = Field(default=1, gt=0)
    """vLLM --tensor-parallel-size (GPUs per node)."""
    pipeline_parallel_size: int = Field(default=1, gt=0)
    """vLLM --pipeline-parallel-size (nodes, on a Ray cluster)."""
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    """vLLM --gpu-memory-utilization."""
    speculative_ngram: bool = False
    """Enable vLLM n-gram (prompt lookup) speculative decoding: edits copy much of their input."""
    speculative_tokens: int = Field(default=4, gt=0, le=16)
    """Tokens proposed per step by n-gram speculative decoding."""
    extra_args: list[str] = Field(default_factory=list)
    """Extra arguments appended to the server command."""


class ContextConfig(_Section):
    """What goes into the prompt."""

    budget: int = Field(default=8192, gt=0)
    """Token budget for the repository context."""
    max_file_bytes: int = Field(default=1_000_000, gt=0)
    """Files larger than this are listed by path only."""
    embed: bool = False
    """Re-rank candidates with MiniLM embeddings (the `embed` extra)."""
    redact_secrets: bool = True
    """Redact secret-shaped strings before anything reaches a prompt."""


class LoopConfig(_Section):
    """Limits and checks of the agent loop."""

    max_iterations: int = Field(default=5, gt=0)
    """Edit-and-test rounds before the run ends with status `limit`."""
    max_total_tokens: int = Field(default=200_000, gt=0)
    """Prompt plus completion tokens over the whole run."""
    wall_time: float = Field(default=1800.0, gt=0)
    """Seconds the whole run may take."""
    test_cmd: str | None = None
    """The check command; unset detects pytest, npm test, go test, cargo test, ..."""
    test_timeout: float = Field(default=300.0, gt=0)
    """Seconds one check run may take before its whole process group is killed."""
    auto_apply: bool = True
    """Apply edits without asking (the UI asks per file when this is off)."""
    check_first: bool = True
    """Run the checks before the first model call and show the model their failures."""
    max_format_retries: int = Field(default=3, ge=0)
    """Replies in a row that cannot be read as edits before the run ends with status `unparseable`."""
    max_context_requests: int = Field(default=4, ge=0)
    """Times per run the model may ask for more files or symbols (not counted as edit rounds)."""
    repeat_limit: int = Field(default=3, ge=2)
    """The same edit, or the same failure, this many times in a row ends the run."""


class ReviewConfig(_Section):
    """`lingcode review` and the pre-commit hook."""

    hook_budget: float = Field(default=20.0, gt=0)
    """Seconds the hook may spend before it gives up (fail open unless fail_closed)."""
    fail_closed: bool = False
    """In hook mode, exit 3 instead of 0 when the model is down or too slow."""
    fail_on: Literal["info", "warning", "error", "never"] = "error"
    """Lowest finding severity that makes the exit code 1."""
    hook_definitions: bool = False
    """In hook mode, also look up definitions in the symbol index (0.1-0.5 s more on large repositories)."""


class TrustConfig(_Section):
    """What the project file of a repository may set; honoured only from the user file."""

    allow_project_remote_model: bool = False
    """Let a project file point the model at a non-loopback host."""
    allow_project_commands: bool = False
    """Let a project file set commands that run (test_cmd, serve settings)."""
    allow_project_unsafe: bool = False
    """Let a project file switch safety settings off (secret redaction)."""


class Config(_Section):
    """All of lingcode's settings."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    context: ContextConfig = Field(default_factory=ContextConfig)
    loop: LoopConfig = Field(default_factory=LoopConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    trust: TrustConfig = Field(default_factory=TrustConfig)


SECTIONS: dict[str, type[_Section]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in Config.model_fields.items()
}


def config_home() -> Path:
    """The user's lingcode config directory."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lingcode"


def cache_home() -> Path:
    """The user's lingcode cache directory (models, indexes that live outside a repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lingcode"


def user_config_path() -> Path:
    """Path of the user config file."""
    return config_home() / "config.toml"


def project_config_path(root: Path) -> Path:
    """Path of a repository's project config file."""
    return root / ".lingcode" / "config.toml"


def load_config(
    root: Path | None = None,
    overrides: list[str] | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the effective Config from every source; raise ConfigError naming file and key on bad input.

    `flags` maps dotted keys ("model.base_url") to values from command-line options; None values are skipped.
    """
    env = os.environ if environ is None else environ
    user_path = user_config_path() if environ is None else _user_path_from(env)
    user = _read_toml(user_path)
    project_path = project_config_path(root) if root is not None else None
    project = _read_toml(project_path) if project_path is not None else {}
    layers: list[tuple[str, dict[str, Any]]] = [(str(user_path), user)]
    if project_path is not None:
        if "trust" in project:
            _refuse(str(project_path), "trust", "")
        layers.append((str(project_path), project))
    layers.append(("environment", _from_environ(env)))
    layers.append(("-c", _from_overrides(overrides or [])))
    layers.append(("command line", _from_flags(flags or {})))
    merged: dict[str, Any] = {}
    for source, data in layers:
        _validate(source, data)
        _deep_merge(merged, data)
    config = _validate("configuration", merged)
    if project_path is not None:
        _check_trust(str(project_path), project, config.trust)
    return config


def _user_path_from(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lingcode" / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _validate(source: str, data: dict[str, Any]) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = err.get("input")
        shown = "" if isinstance(got, dict) else f", got {got!r}"
        raise ConfigError(f"{source}: {key}: {err['msg'].lower()}{shown}") from None


def _deep_merge(into: dict[str, Any], data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, Mapping):
            _deep_merge(into.setdefault(key, {}), value)
        else:
            into[key] = value


def _set_dotted(target: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    parts = dotted.split(".")
    if len(parts) != 2 or parts[0] not in SECTIONS or not all(parts):
        sections = ", ".join(SECTIONS)
        raise ConfigError(f"{source}: {dotted}: expected section.key with a section among {sections}")
    target.setdefault(parts[0], {})[parts[1]] = value


def _parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _from_overrides(overrides: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"-c {item}: expected key.path=value")
        _set_dotted(out, key.strip(), _parse_value(raw.strip()), "-c")
    return out


def _from_environ(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith("LINGCODE_"):
            continue
        rest = name[len("LINGCODE_") :].lower()
        section = next((s for s in SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            continue  # LINGCODE_* variables of other tools or tests are not ours to reject
        key = rest[len(section) + 1 :]
        if key not in SECTIONS[section].model_fields:
            raise ConfigError(f"environment: {name}: unknown key {section}.{key}")
        _set_dotted(out, f"{section}.{key}", _parse_value(raw), f"environment {name}")
    return out


def _from_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in flags.items():
        if value is not None:
            _set_dotted(out, dotted, value, "command line")
    return out


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_COMMAND_KEYS = {("loop", "test_cmd")}
_UNSAFE_OFF = {("context", "redact_secrets")}


def _check_trust(source: str, project: Mapping[str, Any], trust: TrustConfig) -> None:
    model = project.get("model", {})
    url = model.get("base_url") if isinstance(model, Mapping) else None
    if isinstance(url, str) and not is_loopback_url(url) and not trust.allow_project_remote_model:
        _refuse(source, "model.base_url", "allow_project_remote_model")
    for section, key in _COMMAND_KEYS:
        if key in project.get(section, {}) and not trust.allow_project_commands:
            _refuse(source, f"{section}.{key}", "allow_project_commands")
    if "serve" in project and not trust.allow_project_commands:
        _refuse(source, "serve", "allow_project_commands")
    for section, key in _UNSAFE_OFF:
        if project.get(section, {}).get(key) is False and not trust.allow_project_unsafe:
            _refuse(source, f"{section}.{key}", "allow_project_unsafe")


def _refuse(source: str, key: str, permission: str) -> None:
    if not permission:
        raise ConfigError(f"{source}: {key}: a project file cannot set trust; only the user file can")
    raise ConfigError(
        f"{source}: {key}: a repository's project file may not set this; "
        f"to allow it, set {permission} = true under [trust] in {user_config_path()}"
    )
