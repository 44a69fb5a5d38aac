"""`lingcode export-sft`: write the repository's successful runs as chat-format fine-tuning JSONL."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lingcode.commands.common import resolve_root, root_option


@click.command("export-sft")
@root_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE (default: stdout).",
)
def command(root: Path | None, out: Path | None) -> int:
    """One line per successful run: {"messages": [{"role": ..., "content": ...}, ...]}."""
    from lingcode.loop.trajectory import export_sft

    path = resolve_root(root)
    if out is None:
        count = export_sft(path, sys.stdout)
    else:
        tmp = out.with_name(out.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            count = export_sft(path, handle)
        tmp.replace(out)
    click.echo(f"exported {count} successful run(s)", err=True)
    return 0
