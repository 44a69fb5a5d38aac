"""`lingcode hook install|uninstall|status`: manage lingcode's git pre-commit hook."""

from __future__ import annotations

from pathlib import Path

import click

from lingcode.commands.common import resolve_root, root_option


@click.command("hook")
@click.argument("action", type=click.Choice(["install", "uninstall", "status"]))
@root_option
def command(action: str, root: Path | None) -> int:
    """Install, remove or inspect the pre-commit hook that runs `lingcode review --hook --staged`.

    An existing pre-commit hook is kept and run first; uninstall puts it back.
    """
    from lingcode.run import hook

    repo = resolve_root(root)
    if action == "install":
        result = hook.install(repo)
    elif action == "uninstall":
        was = hook.status(repo)
        result = hook.uninstall(repo)
        if was.installed:
            restored = " and restored the hook it chained" if result.foreign else ""
            click.echo(f"removed lingcode's pre-commit hook from {result.hooks_dir}{restored}")
            return 0
    else:
        result = hook.status(repo)
    click.echo(result.describe())
    return 0
