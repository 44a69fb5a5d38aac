"""The `lingcode` command: global options, lazily loaded subcommands, and one place that turns errors into
a single line and an exit code (see lingcode.errors for the codes)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from lingcode import __version__
from lingcode.errors import ExitCode, LingcodeError

# name -> module under lingcode.commands exposing `command`; imported only when used, so that a hook
# invocation does not pay for Textual or tree-sitter imports it never needs.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "Fix a task headlessly: context, model, edits, tests, repeat."),
    "batch": ("batch", "Run many tasks from a JSONL file concurrently, each in its own worktree."),
    "undo": ("undo", "Restore the work tree to how it was before lingcode's last run."),
    "export-sft": ("export_sft", "Export successful runs as chat-format fine-tuning data."),
    "context": ("context", "Print the context lingcode would send for a task."),
    "map": ("map", "Print the ranked repository map."),
    "apply": ("apply", "Apply a model reply read on stdin, all or nothing."),
    "grammar": ("grammar", "Print the decoding grammar lingcode would send for some files."),
    "review": ("review", "Review a diff (staged, a range, or paths) with the model."),
    "hook": ("hook", "Install, remove or inspect lingcode's pre-commit hook."),
    "serve": ("serve", "Start a model server: embedded llama.cpp or vLLM."),
    "doctor": ("doctor", "Check the model server: reachability, model, context, speed."),
}


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
@click.version_option(__version__, prog_name="lingcode")
@click.pass_context
def cli(
    ctx: click.Context, overrides: tuple[str, ...], verbose: bool, resume: bool, root: str | None
) -> None:
    """lingcode: an agentic coding assistant that runs on a model you host yourself.

    With no command, opens an interactive session in the current repository.
    """
    ctx.ensure_object(dict)
    ctx.obj["overrides"] = list(overrides)
    ctx.obj["verbose"] = verbose
    if ctx.invoked_subcommand is None:
        from lingcode.commands.ui import open_session

        open_session(ctx, root=root, resume=resume)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with a documented code, never a traceback."""
    sys.exit(run_cli(argv))


def run_cli(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (used by main and by in-process tests)."""
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    try:
        result: Any = cli.main(args=argv, prog_name="lingcode", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except LingcodeError as exc:
        _say(str(exc))
        return int(exc.exit_code)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        _say(exc.format_message())
        return int(ExitCode.USAGE)
    except (KeyboardInterrupt, click.exceptions.Abort):
        _say("interrupted")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head); point it at devnull so the interpreter's flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    except Exception as exc:
        if verbose:
            import traceback  # only here: it costs the hook's start-up about 10 ms (benchmarks/hook.py)

            traceback.print_exc()
        _say(f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)")
        return int(ExitCode.INTERNAL)


def _say(message: str) -> None:
    click.echo(f"lingcode: {message}", err=True)
