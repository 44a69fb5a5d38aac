"""`lingcode undo`: restore the work tree and index to how they were before lingcode's last run."""

from __future__ import annotations

from pathlib import Path

import click

from lingcode.commands.common import resolve_root, root_option


@click.command("undo")
@root_option
def command(root: Path | None) -> int:
    """Restore the files (and what was staged) to the checkpoint taken before lingcode's first edit."""
    from lingcode.loop.checkpoint import UNDONE_REF, drop_checkpoint, load_checkpoint, restore
    from lingcode.loop.lock import RunLock

    path = resolve_root(root)
    with RunLock(path, "undo"):
        checkpoint = load_checkpoint(path)
        if checkpoint is None:
            click.echo("nothing to undo: lingcode has not changed anything here")
            return 0
        restored = restore(path, checkpoint)
        drop_checkpoint(path)
    click.echo(f"restored {len(restored)} file(s) to how they were before lingcode's first edit")
    click.echo(f"(the state before this undo is kept at {UNDONE_REF})")
    for rel in restored:
        click.echo(f"  {rel}")
    return 0
