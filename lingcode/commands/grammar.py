"""`lingcode grammar`: print the decoding grammar lingcode would send for some files."""

from __future__ import annotations

from pathlib import Path

import click

from lingcode.commands.common import resolve_root, root_option
from lingcode.edit.grammar import constrained_grammar
from lingcode.errors import UsageError


@click.command("grammar")
@root_option
@click.option(
    "--format",
    "syntax",
    type=click.Choice(["gbnf", "vllm"]),
    default="gbnf",
    show_default=True,
    help="llama.cpp GBNF or vLLM's structured-output grammar.",
)
@click.argument("files", nargs=-1, required=True)
def command(root: Path | None, syntax: str, files: tuple[str, ...]) -> None:
    """Print the per-request grammar for FILE... (relative to the root): SEARCH may only be their lines."""
    repo = resolve_root(root)
    texts: dict[str, str] = {}
    for name in files:
        path = (repo / name) if not Path(name).is_absolute() else Path(name)
        try:
            rel = path.resolve().relative_to(repo).as_posix()
            texts[rel] = path.read_bytes().decode("utf-8")
        except ValueError:
            raise UsageError(f"{name}: not inside the repository root {repo}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{name}: cannot read it as UTF-8 text ({exc})") from None
    result = constrained_grammar(texts, syntax="vllm" if syntax == "vllm" else "gbnf")
    if result.fallback:
        click.echo(f"lingcode: {result.reason}", err=True)
    click.echo(result.text, nl=False)
