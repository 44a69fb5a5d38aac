"""Settings: typed dataclasses validated by pydantic, where they come from, and which a repository may set.

Sources, highest first: command-line flags, `-c key.path=value`, `LINGCODE_SECTION_KEY` environment
variables, the project file `.lingcode/config.toml`, the user file `$XDG_CONFIG_HOME/lingcode/config.toml`,
then the defaults below.

A repository is untrusted (it may be a stranger's clone), so its project file may not point the model at a
non-loopback host, set commands that run, or switch safety settings off, unless the user's own file says so
in its `[trust]` section.

The sections are plain dataclasses that pydantic validates (a TypeAdapter, built on first use) rather than
pydantic models: defining models costs every command about 0.1 s of start-up, the pre-commit hook included,
while importing this module now costs almost nothing. A configuration validated once is kept in a cache
(lingcode.config_cache) keyed by everything it was read from, so a command whose settings did not change
never loads pydantic at all. Constructing or assigning fields in code is not validated; every source a user
writes is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from lingcode import config_cache
from lingcode.errors import ConfigError

if TYPE_CHECKING:
    from annotated_types import Ge, Gt, Le


class _Section:
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}
    """Read by pydantic: an unknown key is an error, not silently ignored."""


@dataclass(kw_only=True)
class ModelConfig(_Section):
    """How to reach the model server."""

    base_url: str | None = None
    """OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1; unset starts the embedded server."""
    model: str | None = None
    """Model name to request; unset asks the server (/v1/models)."""
    api_key: str | None = None
    """Bearer token, if the server wants one."""
    context_window: Annotated[int, Gt(0)] | None = None
    """Context window in tokens; unset asks the server (vLLM max_model_len, llama.cpp /props)."""
    connect_timeout: Annotated[float, Gt(0)] = 10.0
    """Seconds to wait for a TCP connection."""
    first_token_timeout: Annotated[float, Gt(0)] = 180.0
    """Seconds to wait for the first streamed token (prompt reading on a CPU is slow)."""
    idle_timeout: Annotated[float, Gt(0)] = 60.0
    """Seconds a stream may stay silent between chunks."""
    max_retries: Annotated[int, Ge(0), Le(10)] = 3
    """Retries on connection errors, 429/5xx and streams that drop before any content."""
    temperature: Annotated[float, Ge(0), Le(2)] = 0.0
    """Sampling temperature; 0 keeps runs reproducible."""
    seed: int | None = None
    """Sampling seed sent with each request (llama.cpp and vLLM honour it); unset lets the server choose."""
    max_tokens: Annotated[int, Gt(0)] = 2048
    """Most tokens one reply may have."""
    constrain: bool = True
    """Constrain decoding with the edit grammar where the server supports it."""
    reasoning: Literal["auto", "on", "off"] = "auto"
    """Ask for a reasoning section before the edits; auto: off for models under 1B parameters by their served
    name (the embedded gemma-3-270m: its reasoning is noise that costs most of its reply time), else on."""
    focus: Literal["auto", "on", "off"] = "auto"
    """Under constrained decoding, let a reply edit only the functions the failing test output calls (when it
    names any in the files shown); auto: on for models under 1B parameters by their served name."""
    resample: Literal["auto", "on", "off"] = "auto"
    """After an edit the tests reject, undo it and sample a fresh reply to the first prompt (temperature at
    least 0.8, a new seed each time) instead of sending the failure back; auto: on for models under 1B
    parameters by their served name, whose replies to the failure feedback are worse than a fresh sample."""
    engine: Literal["auto", "llama-cpp", "llama-cpp-python", "vllm", "openai"] = "auto"
    """Which server software answers (it decides how grammars are sent); auto asks the server."""
    retry_backoff: Annotated[float, Ge(0)] = 0.5
    """Seconds before the first retry; doubled for each further one (a Retry-After header wins)."""


@dataclass(kw_only=True)
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
    port: Annotated[int, Ge(0), Le(65535)] = 0
    """Port; 0 picks a free one."""
    threads: Annotated[int, Gt(0)] | None = None
    """CPU threads for llama.cpp; unset uses all cores."""
    ctx_size: Annotated[int, Gt(0)] = 8192
    """llama.cpp context size in tokens."""
    chat_format: str | None = None
    """llama-cpp-python chat format; unset: "gemma" for the embedded model, else the GGUF's own template."""
    startup_timeout: Annotated[float, Gt(0)] = 300.0
    """Seconds to wait for the server to become healthy."""
    max_model_len: Annotated[int, Gt(0)] | None = None
    """vLLM --max-model-len."""
    tensor_parallel_size: Annotated[int, Gt(0)] = 1
    """vLLM --tensor-parallel-size (GPUs per node)."""
    pipeline_parallel_size: Annotated[int, Gt(0)] = 1
    """vLLM --pipeline-parallel-size (nodes, on a Ray cluster)."""
    gpu_memory_utilization: Annotated[float, Gt(0), Le(1)] = 0.9
    """vLLM --gpu-memory-utilization."""
    speculative_ngram: bool = False
    """Enable vLLM n-gram (prompt lookup) speculative decoding: edits copy much of their input."""
    speculative_tokens: Annotated[int, Gt(0), Le(16)] = 4
    """Tokens proposed per step by n-gram speculative decoding."""
    extra_args: list[str] = field(default_factory=list)
    """Extra arguments appended to the server command."""
    lora: str | None = None
    """LoRA adapter: a `lingcode tune` output folder (or an adapter GGUF); unset: the default one, if any."""
    no_lora: bool = False
    """Serve no adapter, not even the default one ($XDG_DATA_HOME/lingcode/adapters/default)."""
    lora_name: str = "lingcode-lora"
    """vLLM: the model name that requests give to be answered with the adapter (`--lora-modules`)."""


@dataclass(kw_only=True)
class ContextConfig(_Section):
    """What goes into the prompt."""

    budget: Annotated[int, Gt(0)] = 8192
    """Token budget for the repository context."""
    max_file_bytes: Annotated[int, Gt(0)] = 1_000_000
    """Files larger than this are listed by path only."""
    embed: bool = False
    """Re-rank candidates with MiniLM embeddings (the `embed` extra)."""
    redact_secrets: bool = True
    """Redact secret-shaped strings before anything reaches a prompt."""


@dataclass(kw_only=True)
class LoopConfig(_Section):
    """Limits and checks of the agent loop."""

    max_iterations: Annotated[int, Gt(0)] = 5
    """Edit-and-test rounds before the run ends with status `limit`."""
    max_total_tokens: Annotated[int, Gt(0)] = 200_000
    """Prompt plus completion tokens over the whole run."""
    wall_time: Annotated[float, Gt(0)] = 1800.0
    """Seconds the whole run may take."""
    test_cmd: str | None = None
    """The check command; unset detects it (pytest, npm, cargo, go, Maven, Gradle, CMake, ...)."""
    no_test: bool = False
    """Run no tests: edits are applied untested and `run` ends `applied` (exit 0), not `no_test_command`."""
    test_timeout: Annotated[float, Gt(0)] = 300.0
    """Seconds one check run may take before its whole process group is killed."""
    auto_apply: bool = True
    """Apply edits without asking (the UI asks per file when this is off)."""
    check_first: bool = True
    """Run the checks before the first model call and show the model their failures."""
    max_format_retries: Annotated[int, Ge(0)] = 3
    """Replies in a row that cannot be read as edits before the run ends with status `unparseable`."""
    max_context_requests: Annotated[int, Ge(0)] = 4
    """Replies per run that may ask for more context (NEED FILE/LINES/SYMBOL/...; not edit rounds)."""
    max_requests_per_turn: Annotated[int, Gt(0)] = 5
    """Requests answered from one reply; more are told to ask again."""
    request_tokens: Annotated[int, Gt(0)] = 4096
    """Tokens of the answers to one reply's requests, shared among them (each cut to its share)."""
    request_lines: Annotated[int, Gt(0)] = 200
    """Most lines one NEED LINES request shows."""
    search_hits: Annotated[int, Gt(0)] = 50
    """Most matching lines one NEED SEARCH/REGEX/CALLERS request shows."""
    search_seconds: Annotated[float, Gt(0)] = 2.0
    """Seconds one search may take (a regular expression that backtracks badly is stopped)."""
    repeat_limit: Annotated[int, Ge(2)] = 3
    """The same edit, or the same failure, this many times in a row ends the run."""


@dataclass(kw_only=True)
class ReviewConfig(_Section):
    """`lingcode review` and the pre-commit hook."""

    hook_budget: Annotated[float, Gt(0)] = 20.0
    """Seconds the hook may spend before it gives up (fail open unless fail_closed)."""
    fail_closed: bool = False
    """In hook mode, exit 3 instead of 0 when the model is down or too slow."""
    fail_on: Literal["info", "warning", "error", "never"] = "error"
    """Lowest finding severity that makes the exit code 1."""
    hook_definitions: bool = False
    """In hook mode, also look up definitions in the symbol index (0.1-0.5 s more on large repositories)."""


@dataclass(kw_only=True)
class TrustConfig(_Section):
    """What the project file of a repository may set; honoured only from the user file."""

    allow_project_remote_model: bool = False
    """Let a project file point the model at a non-loopback host."""
    allow_project_commands: bool = False
    """Let a project file set commands that run (test_cmd, serve settings)."""
    allow_project_unsafe: bool = False
    """Let a project file switch safety settings off (secret redaction)."""


@dataclass(kw_only=True)
class Config(_Section):
    """All of lingcode's settings."""

    model: ModelConfig = field(default_factory=ModelConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)


SECTIONS: dict[str, type[Any]] = {
    "model": ModelConfig,
    "serve": ServeConfig,
    "context": ContextConfig,
    "loop": LoopConfig,
    "review": ReviewConfig,
    "trust": TrustConfig,
}
"""Config's sections by name (the dotted keys of `-c`, flags and LINGCODE_* variables start with one)."""


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
    A configuration validated before from exactly the same inputs comes from the cache, unvalidated again.
    """
    env = os.environ if environ is None else environ
    user_path = user_config_path() if environ is None else _user_path_from(env)
    project_path = project_config_path(root) if root is not None else None
    user_text = _read_text(user_path)
    try:
        project_text = _read_text(project_path) if project_path is not None else None
    except ConfigError:
        from lingcode import config_sources

        config_sources.parse_toml(user_path, user_text)  # invalid TOML in the user file is reported first
        raise
    inputs = [
        _schema_tag(),
        str(user_path),
        user_text,
        str(project_path),
        project_text,
        sorted((name, value) for name, value in env.items() if name.startswith("LINGCODE_")),
        list(overrides or []),
        sorted((key, repr(value)) for key, value in (flags or {}).items() if value is not None),
    ]
    slot = config_cache.slot_path(cache_home(), [str(user_path), str(project_path)])
    key = config_cache.input_key(inputs)
    cached = _from_plain(config_cache.lookup(slot, key))
    if cached is not None:
        return cached
    from lingcode import config_sources  # validation: pydantic and the sources' rules, only on a miss

    config = config_sources.build(
        (user_path, config_sources.parse_toml(user_path, user_text)),
        None
        if project_path is None
        else (project_path, config_sources.parse_toml(project_path, project_text)),
        env,
        overrides or [],
        flags or {},
    )
    config_cache.store(slot, key, asdict(config))
    return config


def _user_path_from(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lingcode" / "config.toml"


def _read_text(path: Path) -> str | None:
    """A config file's text; None when there is no such file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


@cache
def _schema_tag() -> str:
    """The code that defines and validates the settings, so a cached configuration never outlives a change."""
    try:
        here = Path(__file__)
        return here.read_text(encoding="utf-8") + here.with_name("config_sources.py").read_text(
            encoding="utf-8"
        )
    except OSError:
        from lingcode import __version__

        return __version__


def _from_plain(data: dict[str, Any] | None) -> Config | None:
    """A Config from a cached, already validated dict (None when it does not fit these sections)."""
    if data is None:
        return None
    try:
        return Config(**{name: SECTIONS[name](**values) for name, values in data.items()})
    except (TypeError, KeyError):
        return None


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    import ipaddress  # here: most commands never ask

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
