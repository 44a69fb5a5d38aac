"""One `lingcode tune` run, from data to a served-ready output folder.

Everything is written in a staging folder beside the output (`.NAME.partial/`): the generated data, the
settings the run was started with (run.json), its checkpoint, and finally `output/`, whose manifest.json is
written last; `output/` is then renamed into place, so a reader (lingcode serve) sees the previous output or
the complete new one, never a partial one. A rerun of the same command finds the staging folder and resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lingcode import __version__
from lingcode.errors import UsageError
from lingcode.tune import checkpoint, dataset
from lingcode.tune.base import BaseModel
from lingcode.tune.errors import TrainingInterrupted
from lingcode.tune.progress import Progress
from lingcode.tune.trainer import TrainSettings

KIND = "lingcode-lora"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_RUN = "run.json"


@dataclass(frozen=True)
class DataSource:
    """Where the training data comes from: a `tune data` folder, or generated from repositories."""

    folder: Path | None = None
    repos: tuple[Path, ...] = ()
    source: str = "both"
    valid_fraction: float = 0.1
    exclude: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """What a resumed run must share with the interrupted one about its data."""
        if self.folder is not None:
            return {"data": str(self.folder)}
        # one repository keeps the key it always had, so a run interrupted before this resumes
        where = (
            {"repo": str(self.repos[0])} if len(self.repos) == 1 else {"repos": list(map(str, self.repos))}
        )
        return {
            **where,
            "source": self.source,
            "valid_fraction": self.valid_fraction,
            "exclude": list(self.exclude),
        }


@dataclass(frozen=True)
class TuneRequest:
    """A whole `lingcode tune` invocation, resolved."""

    out: Path
    base: BaseModel
    data: DataSource
    settings: TrainSettings
    resume: bool = False
    threads: int | None = None
    notes: list[str] = field(default_factory=list)


def staging_for(out: Path) -> Path:
    """The staging folder of an output: beside it, hidden, stable across reruns (so they can resume)."""
    return out.parent / f".{out.name}.partial"


def check_output(out: Path) -> None:
    """Refuse to replace a folder that is not a previous `lingcode tune` output."""
    if not out.exists():
        return
    try:
        kind = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        kind = None
    if kind != KIND:
        raise UsageError(f"{out} exists and is not a `lingcode tune` output; choose another --out")


def prepare_staging(request: TuneRequest, progress: Progress) -> tuple[Path, Path]:
    """The staging folder (kept when it matches the request, resuming it) and the data folder to train on."""
    staging = staging_for(request.out)
    started = {
        "base_sha256": request.base.sha256,
        "data": request.data.describe(),
        **request.settings.fingerprint(),
    }
    previous = _read_json(staging / _RUN)
    if previous is not None and previous != started:
        if request.resume:
            raise UsageError(
                f"cannot resume {staging}: it was started with other settings, data or base model"
            )
        progress.note(f"lingcode: discarding {staging} (an earlier run with other settings)")
        shutil.rmtree(staging)
    elif previous is None and staging.exists():
        shutil.rmtree(staging)  # a run that never got as far as recording its settings
    if request.resume and not checkpoint.exists(staging):
        raise UsageError(f"nothing to resume: no checkpoint in {staging}")
    staging.mkdir(parents=True, exist_ok=True)
    data = request.data.folder or staging / "data"
    if request.data.folder is None and not (data / dataset.MANIFEST).is_file():
        _generate(data, request.data, request.settings.seed)
    dataset.check_folder(data)
    _write_json(staging / _RUN, started)
    if checkpoint.exists(staging):
        progress.note(f"lingcode: resuming from step {checkpoint.load_step(staging)} ({staging})")
    return staging, data


def _generate(data: Path, source: DataSource, seed: int) -> None:
    assert source.repos
    partial = data.with_name(data.name + ".tmp")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    dataset.generate(partial, source.repos, source.source, seed, source.valid_fraction, source.exclude)
    partial.rename(data)


def manifest(
    request: TuneRequest, data_sha256: str, history: Sequence[dict[str, Any]], extra: dict[str, Any]
) -> dict[str, Any]:
    """The output's manifest (the keys lingcode serve reads), written last."""
    settings = request.settings
    steps = [r for r in history if "loss" in r]
    seconds = sum(r["tokens"] / r["tokens_per_s"] for r in steps)
    valid = [r["valid_loss"] for r in history if r.get("valid_loss") is not None]
    return {
        "kind": KIND,
        "complete": True,
        "format_version": FORMAT_VERSION,
        "base_model": {
            "path": str(request.base.path),
            "sha256": request.base.sha256,
            "architecture": request.base.architecture,
        },
        "data_sha256": data_sha256,
        "seed": settings.seed,
        "steps": settings.steps,
        "lora": {"r": settings.rank, "alpha": settings.alpha, "targets": list(settings.targets)},
        "files": {"gguf": "adapter.gguf", "peft": "peft"},
        "train": {
            "tokens_per_s": round(sum(r["tokens"] for r in steps) / seconds, 2) if seconds else None,
            "final_loss": steps[-1]["loss"] if steps else None,
            "valid_loss": valid[-1] if valid else None,
            "valid_loss_before": extra.get("valid_loss_before"),
            "lr": settings.lr,
            "seq_len": settings.seq_len,
            "focus_weight": settings.focus_weight,
            "focus_samples": extra.get("focus_samples"),
            "train_samples": extra.get("train_samples"),
            "skipped_samples": extra.get("skipped_samples"),
        },
        "lingcode_version": __version__,
    }


def publish(staging: Path, out: Path) -> None:
    """Rename the finished `output/` into place (replacing an earlier output whole), then drop the staging."""
    dataset.replace_dir(staging / "output", out)
    shutil.rmtree(staging)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, value: Any) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def execute(request: TuneRequest, progress: Progress) -> dict[str, Any]:
    """Prepare, train (resuming where a checkpoint is), export and publish; return the manifest.

    A run that fails before its first checkpoint (bad data, no sample fits) leaves no staging behind; an
    interrupted one keeps it, to resume.
    """
    staging = staging_for(request.out)
    try:
        return _execute(request, progress)
    except TrainingInterrupted:
        raise
    except BaseException:
        if staging.exists() and not checkpoint.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
        raise


def _execute(request: TuneRequest, progress: Progress) -> dict[str, Any]:
    import torch

    from lingcode.tune import base as base_model
    from lingcode.tune import trainer

    staging, data = prepare_staging(request, progress)
    torch.set_num_threads(request.threads or os.cpu_count() or 1)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, tokenizer = base_model.load(request.base, device)
    samples, valid, extra = _samples(tokenizer, data, request.settings)
    lora_model = trainer.attach_lora(model, request.settings)
    on_step = _reporter(progress)
    history, resumed_extra = trainer.train(
        lora_model, samples, valid, request.settings, staging, on_step, device
    )
    extra = {**resumed_extra, **extra}
    output = staging / "output"
    if output.exists():
        shutil.rmtree(output)
    output.mkdir()
    _export(lora_model, request, history, extra, output)
    if request.data.folder is None:
        shutil.copytree(data, output / "data")
    record = manifest(request, dataset.data_sha256(data), history, extra)
    if request.base.is_gguf:  # llama.cpp serves the merged model at the base's speed; vLLM takes peft/
        from lingcode.tune.merge import merge_output

        progress.note("lingcode: merging the adapter into the base model (merged.gguf)")
        record["merged"] = merge_output(output, request.base.path)
    _write_json(output / MANIFEST, record)
    publish(staging, request.out)
    return record


def _samples(
    tokenizer: Any, data: Path, settings: TrainSettings
) -> tuple[list[Any], list[Any], dict[str, Any]]:
    from lingcode.tune.chat import encode_all, read_records
    from lingcode.tune.trainer import validation_subset

    weighted = settings.focus_weight != 1.0
    samples, skipped = encode_all(tokenizer, read_records(data / "train.jsonl"), settings.seq_len, weighted)
    valid, _ = encode_all(tokenizer, read_records(data / "valid.jsonl"), settings.seq_len)
    if not samples:
        raise UsageError(
            f"no training sample fits --seq-len {settings.seq_len} ({skipped} skipped as too long);"
            " raise --seq-len"
        )
    return (
        samples,
        validation_subset(valid, settings),
        {
            "train_samples": len(samples),
            "skipped_samples": skipped,
            "focus_samples": sum(1 for sample in samples if sample.focus),
        },
    )


def _reporter(progress: Progress) -> Any:
    def on_step(step: int, record: dict[str, Any]) -> None:
        progress.step(step, record["loss"], record["tokens_per_s"], record.get("valid_loss"))

    return on_step


def _export(
    model: Any, request: TuneRequest, history: Sequence[dict[str, Any]], extra: dict[str, Any], output: Path
) -> None:
    """adapter.gguf (llama.cpp), peft/ (vLLM), log.jsonl and loss.png, into the output folder."""
    from lingcode.tune.adapter_gguf import write_adapter
    from lingcode.tune.plot import write_loss_chart

    lora = checkpoint.lora_weights(model)
    with _quiet():
        model.save_pretrained(str(output / "peft"))
    write_adapter(output / "adapter.gguf", lora, request.base.architecture, request.settings.alpha)
    with (output / "log.jsonl").open("w", encoding="utf-8") as log:
        for record in history:
            log.write(json.dumps(record) + "\n")
    train = [(r["step"], r["loss"]) for r in history]
    valid = [(r["step"], r["valid_loss"]) for r in history if r.get("valid_loss") is not None]
    if extra.get("valid_loss_before") is not None:
        valid.insert(0, (0, extra["valid_loss_before"]))
    write_loss_chart(output / "loss.png", train, valid)


@contextmanager
def _quiet() -> Iterator[None]:
    """peft and transformers warn about things that do not apply here (no vocabulary change, deprecations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
