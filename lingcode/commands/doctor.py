"""`lingcode doctor`: check the model server: reachability, model, context window, grammar, speed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lingcode.commands.common import load, model_options, resolve_root, root_option
from lingcode.errors import LingcodeError


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@model_options
@root_option
@click.pass_context
def command(
    ctx: click.Context, as_json: bool, model_url: str | None, model_name: str | None, root: Path | None
) -> int:
    """Check the model server and time a short completion.

    Without a configured server (--model-url or model.base_url) it starts or reuses the embedded one, and
    names the LoRA adapter it serves.
    Exit code 3 when the server cannot be reached or fails.
    """
    from lingcode.model import open_model
    from lingcode.model.doctor import diagnose
    from lingcode.model.embedded import served_adapter

    config = load(ctx, resolve_root(root), {"model.base_url": model_url, "model.model": model_name})

    def progress(message: str) -> None:
        click.echo(f"lingcode: {message}", err=True)

    try:
        with open_model(config, progress) as client:
            known, adapter = served_adapter(client.base_url)
            report = diagnose(client, adapter, known)
    except LingcodeError as exc:
        if as_json:  # scripts get an answer on stdout too; the one-line message still goes to stderr
            click.echo(json.dumps({"ok": False, "error": exc.message, "exit_code": int(exc.exit_code)}))
        raise
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    return 0
