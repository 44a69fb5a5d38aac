"""A training data folder (train.jsonl, valid.jsonl, manifest.json), as `lingcode tune data` writes it and
`lingcode tune` reads it: generated from the repository's functions and its accepted runs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from lingcode import __version__
from lingcode.errors import UsageError

MANIFEST = "manifest.json"
SPLITS = ("train.jsonl", "valid.jsonl")


def generate(
    staging: Path,
    roots: Sequence[Path],
    source: str,
    seed: int,
    fraction: float,
    exclude: Sequence[str] = (),
) -> dict[str, int]:
    """Write the splits into `staging` from every repository in `roots`, in order; accepted runs train only
    (their files are not known to split by).

    Several repositories teach the reply format apart from any one tree's paths: tuned on a single
    repository, a small model learns to open every block with that repository's top folder."""
    with (
        (staging / "train.jsonl").open("w", encoding="utf-8") as train,
        (staging / "valid.jsonl").open("w", encoding="utf-8") as valid,
    ):
        found = [_write_repository(root, source, seed, fraction, exclude, train, valid) for root in roots]
    counts = {key: sum(part[key] for part in found) for key in _COUNTS}
    parts = [{"source": str(root), **part} for root, part in zip(roots, found, strict=True)]
    _write_manifest(staging, parts, seed, fraction, exclude, counts)
    return counts


_COUNTS = ("train_tasks", "valid_tasks", "accepted_runs")


def _write_repository(
    root: Path,
    source: str,
    seed: int,
    fraction: float,
    exclude: Sequence[str],
    train: IO[str],
    valid: IO[str],
) -> dict[str, int]:
    """One repository's tasks and accepted runs onto the two streams; their counts."""
    from lingcode.loop.trajectory import export_sft
    from lingcode.tune.data import write_tasks

    tasks = write_tasks(root, seed, fraction, train, valid, exclude) if source != "runs" else (0, 0)
    runs = export_sft(root, train) if source != "repo" else 0
    if source == "runs" and runs == 0:
        raise UsageError(f"no accepted runs in {root} (lingcode run logs them; see `lingcode export-sft`)")
    if sum(tasks) + runs == 0:
        raise UsageError(f"no function in {root} could be turned into a task (no parsable source files?)")
    return dict(zip(_COUNTS, (*tasks, runs), strict=True))


def data_sha256(folder: Path) -> str:
    """The hash of both splits, in order: what a trained adapter's manifest names its data by."""
    digest = hashlib.sha256()
    for name in SPLITS:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def check_folder(folder: Path) -> None:
    """A `--data` folder must hold both splits; UsageError (exit 2) names what is missing."""
    missing = [name for name in SPLITS if not (folder / name).is_file()]
    if missing:
        raise UsageError(
            f"--data {folder}: no {' or '.join(missing)} (write one with `lingcode tune data --out {folder}`)"
        )


def _write_manifest(
    staging: Path,
    per_repository: Sequence[dict[str, object]],
    seed: int,
    fraction: float,
    exclude: Sequence[str],
    counts: dict[str, int],
) -> None:
    manifest: dict[str, object] = {
        "lingcode_version": __version__,
        "source": per_repository[0]["source"],
        "seed": seed,
        "valid_fraction": fraction,
        "exclude": list(exclude),
        **counts,
    }
    if len(per_repository) > 1:
        manifest["repositories"] = list(per_repository)
    manifest["data_sha256"] = data_sha256(staging)
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def replace_dir(staging: Path, out: Path) -> None:
    """Swap the finished output in by renames, so a reader sees the old output or the new one, never a mix."""
    old = staging.with_name(staging.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    if old.exists():
        shutil.rmtree(old)
