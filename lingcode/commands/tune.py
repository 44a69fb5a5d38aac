"""`lingcode tune`: LoRA fine-tuning of the hosted model on the repository's own code (`tune data`: the data).

`lingcode tune --from-repo . --steps N --out DIR` trains; `lingcode tune data --out DIR` only writes the data.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import click

from lingcode.commands.common import resolve_root
from lingcode.errors import UsageError
from lingcode.tune.errors import OutputError

_SOURCES = click.Choice(["both", "repo", "runs"])
_DIR = click.Path(file_okay=False, path_type=Path)


def output_error(exc: OSError, out: Path) -> OutputError:
    """The one line for an output that cannot be written; a full disk is named as such."""
    reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return OutputError(f"cannot write {out}: {reason}")


def default_adapter_dir() -> Path:
    """The adapter folder `lingcode serve` serves by default: `$XDG_DATA_HOME/lingcode/adapters/default`.

    The same rule as lingcode.tune.adapter_check.default_adapter_dir (kept apart so training does not import
    the serving side)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "lingcode" / "adapters" / "default"


def _data_options(func: Any) -> Any:
    """The options `tune` and `tune data` share: where the tasks come from and how they are split."""
    options = [
        click.option(
            "--from-repo",
            "repos",
            type=_DIR,
            multiple=True,
            help="Repository whose functions become tasks (default: this one). Repeatable: several teach"
            " the reply format apart from one tree's paths.",
        ),
        click.option(
            "--source",
            type=_SOURCES,
            default="both",
            show_default=True,
            help="repo: generated from the functions; runs: lingcode's accepted runs (as export-sft); both.",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed for data and training."),
        click.option(
            "--valid-fraction",
            type=click.FloatRange(0.0, 1.0),
            default=0.1,
            show_default=True,
            help="Share of files held out for validation (split by file, never by sample).",
        ),
        click.option(
            "--exclude",
            multiple=True,
            metavar="GLOB",
            help="Leave out matching files or folders (repeatable), e.g. --exclude examples.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("tune", invoke_without_command=True)
@_data_options
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Training steps (one sample each).")
@click.option(
    "--out",
    type=_DIR,
    default=None,
    help="Output folder: adapter.gguf, peft/, loss.png, manifest.json (default: the adapter lingcode serve"
    " serves by default, $XDG_DATA_HOME/lingcode/adapters/default).",
)
@click.option(
    "--data", "data_dir", type=_DIR, default=None, help="Train on a `tune data` folder instead of generating."
)
@click.option(
    "--base",
    default=None,
    help="Base model: a .gguf file or a Hugging Face weights folder (default: embedded).",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0.0, min_open=True),
    default=3e-4,
    show_default=True,
    help="Learning rate.",
)
@click.option(
    "--rank", type=click.IntRange(min=1), default=8, show_default=True, help="LoRA rank r (alpha = 2r)."
)
@click.option(
    "--focus-weight",
    type=click.FloatRange(min=1.0),
    default=1.0,
    show_default=True,
    help="Loss weight of the lines a fix changes, against 1 for the lines it copies.",
)
@click.option(
    "--seq-len",
    type=click.IntRange(min=16),
    default=768,
    show_default=True,
    help="Longest sample in tokens; longer ones are skipped.",
)
@click.option(
    "--eval-every",
    type=click.IntRange(min=1),
    default=25,
    show_default=True,
    help="Validation loss every N steps (a checkpoint is written every 10).",
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="CPU threads for torch (default: all cores)."
)
@click.option(
    "--resume", is_flag=True, help="Continue an interrupted run (rerunning the same command does too)."
)
@click.pass_context
def command(ctx: click.Context, /, **options: Any) -> int | None:
    """Fine-tune the model on this repository's own code: LoRA, on CPU (or a GPU when present)."""
    if ctx.invoked_subcommand is not None:
        return None
    if options["steps"] is None:
        raise UsageError("lingcode tune needs --steps N (or use `lingcode tune data` for the data alone)")
    return _train(options)


def _train(options: dict[str, Any]) -> int:
    from lingcode.tune.errors import require_tune_extra

    require_tune_extra()
    from lingcode.tune import base, run
    from lingcode.tune.progress import Progress
    from lingcode.tune.trainer import TrainSettings

    out = Path(options["out"]).resolve() if options["out"] else default_adapter_dir()
    run.check_output(out)
    data = run.DataSource(
        folder=Path(options["data_dir"]).resolve() if options["data_dir"] else None,
        repos=() if options["data_dir"] else _roots(options["repos"]),
        source=options["source"],
        valid_fraction=options["valid_fraction"],
        exclude=tuple(options["exclude"]),
    )
    settings = TrainSettings(
        steps=options["steps"], seed=options["seed"], lr=options["lr"], rank=options["rank"],
        alpha=2.0 * options["rank"], seq_len=options["seq_len"], eval_every=options["eval_every"],
        focus_weight=options["focus_weight"],
    )  # fmt: skip
    request = run.TuneRequest(
        out, base.resolve(options["base"]), data, settings, options["resume"], options["threads"]
    )
    progress = Progress(settings.steps)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        record = run.execute(request, progress)
    except OSError as exc:
        raise output_error(exc, out) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    train = record["train"]
    click.echo(
        f"wrote {out}: {settings.steps} steps, loss {train['final_loss']:.3f},"
        f" valid loss {_figure(train['valid_loss'])},"
        f" {train['tokens_per_s']} tokens/s",
        err=True,
    )
    return 0


def _roots(repos: tuple[Path, ...]) -> tuple[Path, ...]:
    """Each `--from-repo` as its repository root (the current one when none is given), without repeats."""
    roots = [resolve_root(repo) for repo in repos] if repos else [resolve_root(None)]
    return tuple(dict.fromkeys(roots))


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends training as Ctrl-C does: the checkpoint stays, nothing is published."""
    raise KeyboardInterrupt


@command.command("data")
@_data_options
@click.option("--out", type=_DIR, required=True, help="Output directory.")
def data(
    repos: tuple[Path, ...],
    out: Path,
    source: str,
    seed: int,
    valid_fraction: float,
    exclude: tuple[str, ...],
) -> int:
    """Write train.jsonl and valid.jsonl in chat format: functions broken and fixed, and accepted runs."""
    from lingcode.tune.dataset import MANIFEST, generate, replace_dir

    roots = _roots(repos)
    out = out.resolve()
    if out.exists() and not (out / MANIFEST).is_file():
        raise UsageError(f"{out} exists and is not a `lingcode tune data` output; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
            staging = Path(tmp) / "data"
            staging.mkdir()
            counts = generate(staging, roots, source, seed, valid_fraction, exclude)
            replace_dir(staging, out)
    except OSError as exc:
        raise output_error(exc, out) from None
    summary = f"{counts['train_tasks']} training and {counts['valid_tasks']} validation task(s)"
    click.echo(f"wrote {summary} and {counts['accepted_runs']} accepted run(s) to {out}", err=True)
    return 0


@command.command("merge")
@click.argument("folder", type=_DIR, required=False)
def merge(folder: Path | None) -> int:
    """Fold a finished run's adapter into its base GGUF (merged.gguf): llama.cpp serves it at base speed.

    `lingcode tune` does this itself when its base is a GGUF; this is for outputs written before it did.
    FOLDER defaults to the adapter lingcode serve serves by default."""
    from lingcode.tune.errors import require_tune_extra

    require_tune_extra()
    from lingcode.tune.adapter_check import MANIFEST, check_for_llama, read_manifest
    from lingcode.tune.merge import merge_output

    folder = (folder or default_adapter_dir()).resolve()
    record = read_manifest(folder)
    base_part = record.get("base_model")
    base = Path(str(base_part.get("path"))) if isinstance(base_part, dict) else None
    if base is None or base.suffix != ".gguf" or not base.is_file():
        raise UsageError(f"{folder}: its base model {base} is not a GGUF file here; only those merge")
    check_for_llama(folder, base)
    try:
        record["merged"] = merge_output(folder, base)
        partial = folder / f".{MANIFEST}.partial"
        partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, folder / MANIFEST)
    except OSError as exc:
        raise output_error(exc, folder) from None
    merged = record["merged"]
    click.echo(
        f"wrote {folder / merged['file']}: {merged['tensors']} weights merged ({merged['type']})", err=True
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(command())
