"""`lingcode map`: print the ranked repository map, or clear the index it is built from."""

from __future__ import annotations

from pathlib import Path

import click

from lingcode.commands.common import load, resolve_root, root_option


@click.command("map")
@root_option
@click.option(
    "--budget", type=click.IntRange(min=1), default=None, help="Token budget (default: context.budget)."
)
@click.option(
    "--clear-cache", is_flag=True, help="Delete the repository's index (<git dir>/lingcode/index.sqlite)."
)
@click.pass_context
def command(ctx: click.Context, root: Path | None, budget: int | None, clear_cache: bool) -> None:
    """Print the ranked repository map: files and their key definitions, within a token budget."""
    from lingcode.context import index_path, repo_map
    from lingcode.context.index import clear_index

    path = resolve_root(root)
    config = load(ctx, path, {"context.budget": budget})
    if clear_cache:
        where = index_path(path)
        click.echo(f"cleared {where}" if clear_index(path) else f"no index at {where}", err=True)
        return
    click.echo(repo_map(path, config.context.budget, config.context, progress=True), nl=False)
