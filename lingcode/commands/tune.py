"""`lingcode tune`: fine-tuning the hosted model on the repository's own code (today: its training data)."""

from __future__ import annotations

import errno
import json
import shutil
import tempfile
from pathlib import Path

import click

from lingcode import __version__
from lingcode.commands.common import resolve_root
from lingcode.errors import LingcodeError, UsageError

MANIFEST = "manifest.json"


class OutputError(LingcodeError):
    """The output could not be written (no space, no permission); nothing partial is left behind."""


@click.group("tune")
def command() -> None:
    """Fine-tune the model on this repository's own code."""


@command.command("data")
@click.option(
    "--from-repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Repository whose functions become tasks (default: the current directory).",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output directory."
)
@click.option(
    "--source",
    type=click.Choice(["both", "repo", "runs"]),
    default="both",
    show_default=True,
    help="repo: generated from the functions; runs: lingcode's accepted runs (as export-sft); both.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the breaks and the split.")
@click.option(
    "--valid-fraction",
    type=click.FloatRange(0.0, 1.0),
    default=0.1,
    show_default=True,
    help="Share of files held out for validation (split by file, never by sample).",
)
def data(repo: Path | None, out: Path, source: str, seed: int, valid_fraction: float) -> int:
    """Write train.jsonl and valid.jsonl in chat format: functions broken and fixed, and accepted runs."""
    root = resolve_root(repo)
    out = out.resolve()
    if out.exists() and not (out / MANIFEST).is_file():
        raise UsageError(f"{out} exists and is not a `lingcode tune data` output; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
            staging = Path(tmp) / "data"
            staging.mkdir()
            counts = _generate(staging, root, source, seed, valid_fraction)
            _write_manifest(staging, root, seed, valid_fraction, counts)
            _replace(staging, out)
    except OSError as exc:
        reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise OutputError(f"cannot write {out}: {reason}") from None
    summary = f"{counts['train_tasks']} training and {counts['valid_tasks']} validation task(s)"
    click.echo(f"wrote {summary} and {counts['accepted_runs']} accepted run(s) to {out}", err=True)
    return 0


def _generate(staging: Path, root: Path, source: str, seed: int, fraction: float) -> dict[str, int]:
    """Write the splits into `staging`; accepted runs train only (their files are not known to split by)."""
    from lingcode.loop.trajectory import export_sft
    from lingcode.tune.data import write_tasks

    tasks, runs = (0, 0), 0
    with (
        (staging / "train.jsonl").open("w", encoding="utf-8") as train,
        (staging / "valid.jsonl").open("w", encoding="utf-8") as valid,
    ):
        if source in ("both", "repo"):
            tasks = write_tasks(root, seed, fraction, train, valid)
        if source in ("both", "runs"):
            runs = export_sft(root, train)
    if source == "runs" and runs == 0:
        raise UsageError(f"no accepted runs in {root} (lingcode run logs them; see `lingcode export-sft`)")
    if sum(tasks) + runs == 0:
        raise UsageError(f"no function in {root} could be turned into a task (no parsable source files?)")
    return {"train_tasks": tasks[0], "valid_tasks": tasks[1], "accepted_runs": runs}


def _write_manifest(staging: Path, root: Path, seed: int, fraction: float, counts: dict[str, int]) -> None:
    import hashlib

    digest = hashlib.sha256()
    for name in ("train.jsonl", "valid.jsonl"):
        digest.update((staging / name).read_bytes())
    manifest = {
        "lingcode_version": __version__,
        "source": str(root),
        "seed": seed,
        "valid_fraction": fraction,
        **counts,
        "data_sha256": digest.hexdigest(),
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _replace(staging: Path, out: Path) -> None:
    """Swap the finished output in by renames, so a reader sees the old output or the new one, never a mix."""
    old = staging.parent / "old"
    if out.exists():
        out.rename(old)
    staging.rename(out)
    if old.exists():
        shutil.rmtree(old)
