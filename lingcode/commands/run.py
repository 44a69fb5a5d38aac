"""`lingcode run TASK`: fix a task headlessly (context, model, edits, checks, repeat)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lingcode.commands.common import load, model_options, resolve_root, root_option
from lingcode.errors import UsageError


@click.command("run")
@click.argument("task")
@root_option
@model_options
@click.option("--test-cmd", default=None, help="Check command (default: detected: pytest, npm test, ...).")
@click.option(
    "--no-test",
    is_flag=True,
    help="Run no tests: apply the edits untested and exit 0 (otherwise no test command found is exit 6).",
)
@click.option("--max-iterations", type=click.IntRange(min=1), default=None, help="Edit-and-test rounds.")
@click.option(
    "--output-format", type=click.Choice(["text", "json", "stream-json"]), default="text", show_default=True
)
@click.option(
    "--patch-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the diff of the run's changes to FILE.",
)
@click.option(
    "--no-apply", is_flag=True, help="Check the edits apply, but write nothing (use with --patch-out)."
)
@click.option("--commit", is_flag=True, help="Commit the changes when the checks pass (hooks run).")
@click.option(
    "--no-constrain",
    is_flag=True,
    help="Do not constrain decoding with the edit grammar (free text instead).",
)
@click.pass_context
def command(
    ctx: click.Context,
    task: str,
    root: Path | None,
    model_url: str | None,
    model_name: str | None,
    test_cmd: str | None,
    no_test: bool,
    max_iterations: int | None,
    output_format: str,
    patch_out: Path | None,
    no_apply: bool,
    commit: bool,
    no_constrain: bool,
) -> int:
    """Fix TASK in the repository (exit: 0 pass, 1 tests fail, 2 usage, 3 no model, 4 rejected, 5 limit,
    6 tests cannot run, 124 time).

    TASK `-` reads the task from stdin; otherwise stdin is never read.
    """
    from lingcode.run.headless import run_headless

    if task == "-":
        task = sys.stdin.read()
    if not task.strip():
        raise UsageError("the task is empty")
    if no_test and test_cmd:
        raise UsageError("--no-test and --test-cmd cannot be used together")
    if test_cmd is not None and not test_cmd.strip():
        raise UsageError("--test-cmd is empty: give the command that runs the tests, or --no-test")
    path = resolve_root(root)
    flags = {
        "model.base_url": model_url,
        "model.model": model_name,
        "loop.test_cmd": test_cmd,
        "loop.no_test": True if no_test else None,
        "loop.max_iterations": max_iterations,
        "model.constrain": False if no_constrain else None,
    }
    config = load(ctx, path, flags)
    return run_headless(
        config,
        path,
        task,
        output_format=output_format,  # type: ignore[arg-type]
        patch_out=patch_out,
        no_apply=no_apply,
        commit=commit,
    )
