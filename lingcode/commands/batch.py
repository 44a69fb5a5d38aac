"""`lingcode batch`: run many tasks from a JSONL file concurrently, each in its own worktree."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lingcode.commands.common import load, model_options, resolve_root, root_option


@click.command("batch")
@click.argument("tasks_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True, help="Tasks at once.")
@click.option("--test-cmd", default=None, help="Check command for tasks that name none.")
@click.option(
    "--task-timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds per task."
)
@model_options
@root_option
@click.pass_context
def command(
    ctx: click.Context,
    tasks_file: Path,
    jobs: int,
    test_cmd: str | None,
    task_timeout: float | None,
    model_url: str | None,
    model_name: str | None,
    root: Path | None,
) -> int:
    """Run each line of TASKS_FILE ({"id", "task", optional "test_cmd"}) headlessly against one server.

    Every task gets its own git worktree of HEAD (uncommitted changes are not included, and your work tree
    is never touched); one JSON line per task (id, status, exit_code, patch, usage, timings) is printed as
    it finishes. Exit code 1 when any task did not succeed.
    """
    from lingcode.run.batch import BatchRunner, read_tasks

    repo = resolve_root(root)
    config = load(ctx, repo, {"model.base_url": model_url, "model.model": model_name})
    tasks = read_tasks(tasks_file)
    base_url = config.model.base_url
    if base_url is None:
        from lingcode.model import open_model

        base_url = open_model(config, progress=lambda line: click.echo(line, err=True)).base_url
    runner = BatchRunner(
        repo, base_url, jobs=jobs, test_cmd=test_cmd, timeout_s=task_timeout, model=config.model.model
    )
    return runner.run(tasks, sys.stdout)
