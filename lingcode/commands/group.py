"""The `lingcode` click group: global options and lazily loaded subcommands (lingcode.cli runs it)."""

from __future__ import annotations

import importlib

import click

from lingcode import __version__
from lingcode.cli import COMMANDS
from lingcode.commands.common import model_flags, model_options
from lingcode.errors import UsageError


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"lingcode.commands.{entry[0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # a static table: --help must not import every subcommand's dependencies
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())])


@click.group(
    cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option("-c", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="Override a setting.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Show more detail, including tracebacks of internal errors."
)
@click.option("--resume", is_flag=True, help="Resume the last interactive session in this repository.")
@click.option(
    "--root", type=click.Path(file_okay=False, path_type=str), default=None, help="Repository root."
)
@model_options
@click.version_option(__version__, prog_name="lingcode")
@click.pass_context
def cli(
    ctx: click.Context,
    overrides: tuple[str, ...],
    verbose: bool,
    resume: bool,
    root: str | None,
    model_url: str | None,
    model_name: str | None,
) -> None:
    """lingcode: an agentic coding assistant that runs on a model you host yourself.

    With no command, opens an interactive session in the current repository.
    """
    ctx.ensure_object(dict)
    ctx.obj["overrides"] = list(overrides)
    ctx.obj["verbose"] = verbose
    ctx.obj["flags"] = model_flags({"model_url": model_url, "model_name": model_name})
    ctx.obj["root"] = root
    if ctx.invoked_subcommand is not None:
        _refuse_flags_the_command_ignores(ctx, resume, model_url, model_name)
    if ctx.invoked_subcommand is None:
        from lingcode.commands.ui import open_session

        open_session(ctx, root=root, resume=resume)


def _refuse_flags_the_command_ignores(
    ctx: click.Context, resume: bool, model_url: str | None, model_name: str | None
) -> None:
    """`lingcode --model-url URL map` would silently do without the URL: say so instead."""
    name = ctx.invoked_subcommand or ""
    if resume:
        raise UsageError(f"--resume reopens the interactive session; it does not apply to `lingcode {name}`")
    if model_url is None and model_name is None:
        return
    command = cli.get_command(ctx, name)
    takes = {p.name for p in command.params} if command else set()
    if isinstance(command, click.Group):
        return  # `tune`, `hook`: their subcommands decide; none of them silently drops a model flag yet
    if "model_url" not in takes:
        flag = "--model-url" if model_url is not None else "--model"
        raise UsageError(f"{flag} does not apply to `lingcode {name}`: it talks to no model")


def run(args: list[str] | None) -> int:
    """Run the group on `args` (None: sys.argv); click's own exits and usage errors become exit codes."""
    try:
        result = cli.main(args=args, prog_name="lingcode", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        raise UsageError(exc.format_message()) from None
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None  # reported like Ctrl-C, in one place (lingcode.cli)
