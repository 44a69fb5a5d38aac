"""`lingcode export-sft`: write the repository's successful runs as chat-format fine-tuning JSONL."""

from __future__ import annotations

import contextlib
import errno
import sys
from pathlib import Path

import click

from lingcode.commands.common import resolve_root, root_option
from lingcode.errors import LingcodeError


class OutputError(LingcodeError):
    """The output file could not be written (no folder, no space, no permission); nothing partial is left."""


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
        try:
            with tmp.open("w", encoding="utf-8") as handle:
                count = export_sft(path, handle)
            tmp.replace(out)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            reason = (
                "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            )
            raise OutputError(f"cannot write {out}: {reason}") from None
    click.echo(f"exported {count} successful run(s)", err=True)
    return 0
