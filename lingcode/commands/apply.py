"""`lingcode apply`: apply a model reply read on stdin, all or nothing."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from lingcode.commands.common import resolve_root, root_option
from lingcode.edit import FormatError, apply_edits, parse_reply
from lingcode.errors import EditsRejected, ExitCode


@click.command("apply")
@root_option
@click.option("--dry-run", is_flag=True, help="Check the edits and print the diff without writing anything.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of per-file results.")
def command(root: Path | None, dry_run: bool, as_json: bool) -> int:
    """Apply the edits in a model reply read on stdin; exit 4 (nothing changed) when any is rejected."""
    repo = resolve_root(root)
    reply = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    try:
        edits = parse_reply(reply)
    except FormatError as exc:
        raise EditsRejected(f"the reply's edits cannot be read: {exc.message}") from None
    result = apply_edits(edits, repo, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps([asdict(item) for item in result.files], indent=2))
    elif result.ok:
        click.echo(result.diff, nl=False)
        verb = "would change" if dry_run else "changed"
        for item in result.files:
            target = f" -> {item.new_path}" if item.new_path else ""
            click.echo(f"{verb}: {item.path}{target} ({item.status})", err=True)
        if not result.files:
            click.echo("no edits in the reply", err=True)
    else:
        click.echo(result.rejection_message(), err=True)
    return int(ExitCode.OK if result.ok else ExitCode.EDITS_REJECTED)
