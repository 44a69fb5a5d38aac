"""Find and render the prompt templates (`prompts/*.j2`), and gather a repository's project instructions.

Templates are looked up, first match wins, in:
    ROOT/.lingcode/prompts/NAME.j2        a repository's override
    config_home()/prompts/NAME.j2         the user's override
    lingcode/prompts/NAME.j2              the installed package (the wheel force-includes `prompts/`)
    <source tree>/prompts/NAME.j2         a source checkout

Rendering is strict: a variable the template uses but the caller did not pass is an error, never an empty
string, so a typo in a template cannot silently drop part of a prompt.
"""

from __future__ import annotations

import contextlib
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from lingcode.config import cache_home, config_home
from lingcode.errors import ConfigError

__all__ = ["INSTRUCTION_FILES", "MAX_INSTRUCTIONS_BYTES", "project_instructions", "render", "template_dirs"]

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md")
"""Names of project instruction files, preferred first; the second is read only where the first is absent."""

MAX_INSTRUCTIONS_BYTES = 16_000
"""Most bytes of project instructions that reach a prompt (a small model's context is precious)."""

_PACKAGE_DIR = Path(__file__).resolve().parent / "prompts"
_SOURCE_DIR = Path(__file__).resolve().parent.parent / "prompts"


def builtin_dir() -> Path:
    """The directory holding lingcode's own templates (installed package first, else the source tree)."""
    return _PACKAGE_DIR if _PACKAGE_DIR.is_dir() else _SOURCE_DIR


def template_dirs(root: Path | None = None) -> list[Path]:
    """Directories searched for templates, highest precedence first (missing ones are left out)."""
    dirs: list[Path] = []
    if root is not None:
        dirs.append(root / ".lingcode" / "prompts")
    dirs.append(config_home() / "prompts")
    dirs.append(builtin_dir())
    return [d for d in dirs if d.is_dir()]


_OPTIONS: dict[str, Any] = {
    # keep_trailing_newline and no autoescape: prompts are plain text whose bytes matter (prefix caching)
    "undefined": jinja2.StrictUndefined,
    "keep_trailing_newline": True,
    "autoescape": False,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates under cache_home(), so a short command (the pre-commit hook) does not compile its
    template on every run. jinja2 keys an entry by the template's path and source, and writes it atomically;
    the file names carry these options too, since the compiled code depends on them. A cache that cannot be
    written only costs the compile."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache(directory: Path) -> jinja2.BytecodeCache | None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    options = repr(sorted((k, getattr(v, "__name__", v)) for k, v in _OPTIONS.items()))
    tag = zlib.crc32(f"{jinja2.__version__}{options}".encode()) & 0xFFFFFFFF
    return _BytecodeCache(str(directory), f"%s-{tag:08x}.cache")


@lru_cache(maxsize=16)
def _environment(dirs: tuple[Path, ...], cache_dir: Path) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader([str(d) for d in dirs])
    return jinja2.Environment(loader=loader, bytecode_cache=_bytecode_cache(cache_dir), **_OPTIONS)


def render(name: str, root: Path | None = None, **variables: Any) -> str:
    """Render `NAME.j2` with `variables`; a missing template or variable raises ConfigError naming it."""
    dirs = tuple(template_dirs(root))
    env = _environment(dirs, cache_home() / "prompts")
    try:
        template = env.get_template(f"{name}.j2")
        return template.render(**variables)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"prompt template {name}.j2 not found in {', '.join(map(str, dirs))}") from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"prompt template {name}.j2: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"prompt template {exc.filename or name}:{exc.lineno}: {exc.message}") from None


def project_instructions(root: Path, cwd: Path) -> str:
    """AGENTS.md (or CLAUDE.md where there is none) from `root` down to `cwd`, nearest last, capped in size.

    Each file is introduced by its repository-relative path so the model knows where a rule applies.
    A `cwd` outside `root` reads only the root's file.
    """
    root = root.resolve()
    cwd = cwd.resolve()
    dirs = [root]
    if cwd != root and cwd.is_relative_to(root):
        current = root
        for part in cwd.relative_to(root).parts:
            current = current / part
            dirs.append(current)
    parts: list[str] = []
    for directory in dirs:
        text = _read_instructions(directory)
        if text is None:
            continue
        name, body = text
        rel = (directory / name).relative_to(root).as_posix()
        parts.append(f"# {rel}\n{body.strip()}\n")
    joined = "\n".join(parts)
    encoded = joined.encode("utf-8")
    if len(encoded) <= MAX_INSTRUCTIONS_BYTES:
        return joined
    # keep the tail: the nearest (most specific) instructions come last and matter most
    kept = encoded[-MAX_INSTRUCTIONS_BYTES:].decode("utf-8", errors="ignore")
    return "[project instructions truncated]\n" + kept


def _read_instructions(directory: Path) -> tuple[str, str] | None:
    for name in INSTRUCTION_FILES:
        path = directory / name
        if path.is_file():
            try:
                return name, path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
    return None
