"""`lingcode context`: print the context lingcode would send the model for a task."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lingcode.commands.common import load, resolve_root, root_option


@click.command("context")
@click.argument("task")
@root_option
@click.option(
    "--budget", type=click.IntRange(min=1), default=None, help="Token budget (default: context.budget)."
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"files": [...], "tokens": N} instead of the text.'
)
@click.pass_context
def command(ctx: click.Context, task: str, root: Path | None, budget: int | None, as_json: bool) -> None:
    """Rank the repository's files for TASK and print the context that fits the budget."""
    from lingcode.context import build_context

    path = resolve_root(root)
    config = load(ctx, path, {"context.budget": budget})
    result = build_context(task, path, config.context.budget, config=config.context, progress=True)
    if as_json:
        files = [{"path": f.path, "score": f.score, "included": f.included} for f in result.files]
        click.echo(json.dumps({"files": files, "tokens": result.tokens}))
    else:
        click.echo(result.text, nl=False)
