"""Reading and validating the configuration sources: TOML files, LINGCODE_* variables, `-c` overrides and
flags, merged in order of precedence, each validated by pydantic, and the trust rules for a repository's own
file. lingcode.config loads this module only when its cache of validated configurations misses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lingcode import config as config_module
from lingcode.config import SECTIONS, Config, TrustConfig, is_loopback_url, user_config_path
from lingcode.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import TypeAdapter


def build(
    user: tuple[Path, dict[str, Any]],
    project: tuple[Path, dict[str, Any]] | None,
    env: Mapping[str, str],
    overrides: list[str],
    flags: Mapping[str, Any],
) -> Config:
    """Merge and validate every source (each one alone first, so an error names the file it is in)."""
    layers: list[tuple[str, dict[str, Any]]] = [(str(user[0]), user[1])]
    if project is not None:
        if "trust" in project[1]:
            _refuse(str(project[0]), "trust", "")
        layers.append((str(project[0]), project[1]))
    layers.append(("environment", _from_environ(env)))
    layers.append(("-c", _from_overrides(overrides)))
    layers.append(("command line", _from_flags(flags)))
    merged: dict[str, Any] = {}
    for source, data in layers:
        _validate(source, data)
        _deep_merge(merged, data)
    config = _validate("configuration", merged)
    if project is not None:
        _check_trust(str(project[0]), project[1], config.trust)
    return config


def parse_toml(path: Path, text: str | None) -> dict[str, Any]:
    """A config file's settings ({} for no file); invalid TOML is a ConfigError naming the file."""
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


@cache
def _adapter() -> TypeAdapter[Config]:
    """pydantic's validator for Config, built on first use (pydantic is most of a cold start)."""
    from annotated_types import Ge, Gt, Le
    from pydantic import TypeAdapter

    # the constraints in the sections' annotations name these; they are resolved only now
    vars(config_module).update(Ge=Ge, Gt=Gt, Le=Le)
    return TypeAdapter(Config)


_DATACLASS_WORDING = {
    "unexpected_keyword_argument": "extra inputs are not permitted",
    "dataclass_type": "input should be a valid dictionary or instance of {class_name}",
}
"""pydantic words some errors differently for dataclasses than for models; users (and their scripts) know the
models' wording, which these lines keep."""


def _validate(source: str, data: dict[str, Any]) -> Config:
    from pydantic import ValidationError

    try:
        return _adapter().validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = err.get("input")
        shown = "" if isinstance(got, dict) else f", got {got!r}"
        wording = _DATACLASS_WORDING.get(err["type"])
        message = (wording.format(**err.get("ctx", {})) if wording else err["msg"]).lower()
        raise ConfigError(f"{source}: {key}: {message}{shown}") from None


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
        if key not in {f.name for f in fields(SECTIONS[section])}:
            raise ConfigError(f"environment: {name}: unknown key {section}.{key}")
        _set_dotted(out, f"{section}.{key}", _parse_value(raw), f"environment {name}")
    return out


def _from_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in flags.items():
        if value is not None:
            _set_dotted(out, dotted, value, "command line")
    return out


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
