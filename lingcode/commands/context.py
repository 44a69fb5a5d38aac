"""`lingcode context`: print the context lingcode would send the model for a task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lingcode.commands.common import load, resolve_root, root_option

if TYPE_CHECKING:
    from lingcode.context.engine import Context


def context_json(result: Context, with_text: bool = True) -> dict[str, object]:
    """The JSON form: per ranked file its score, whether its text is in, and what of it the model sees
    (`shown`: whole, excerpt, map, path or null; with `lines` ranges and `symbols`), then the totals."""
    files = []
    for f in result.files:
        shown = result.shown.get(f.path)
        detail = shown.to_json() if shown is not None else {"shown": None, "lines": [], "symbols": []}
        files.append({"path": f.path, "score": f.score, "included": f.included, **detail})
    out: dict[str, object] = {"files": files, "tokens": result.tokens, "budget": result.budget}
    if with_text:
        out["text"] = result.text
    return out


@click.command("context")
@click.argument("task")
@root_option
@click.option(
    "--budget", type=click.IntRange(min=1), default=None, help="Token budget (default: context.budget)."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON instead of the text: each file's score and what of it is shown, the tokens, the text.",
)
@click.option("--no-text", is_flag=True, help="With --json: leave the rendered text out.")
@click.pass_context
def command(
    ctx: click.Context, task: str, root: Path | None, budget: int | None, as_json: bool, no_text: bool
) -> None:
    """Rank the repository's files for TASK and print the context that fits the budget."""
    from lingcode.context import build_context

    path = resolve_root(root)
    config = load(ctx, path, {"context.budget": budget})
    result = build_context(task, path, config.context.budget, config=config.context, progress=True)
    if as_json:
        click.echo(json.dumps(context_json(result, with_text=not no_text)))
    else:
        click.echo(result.text, nl=False)
