"""LoRA supervised fine-tuning, batch 1, deterministic from the seed, resumable from its checkpoints.

Determinism: the LoRA factors are initialised under `torch.manual_seed(seed)`, dropout is off, and the sample
for step n is a function of (seed, n) alone (a seeded permutation per pass over the data), so a run that
resumes from a checkpoint feeds the same samples in the same order as one that never stopped. The learning
rate warms up over the first steps and then stays constant, so it does not depend on --steps either.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lingcode.tune import checkpoint
from lingcode.tune.chat import Sample
from lingcode.tune.errors import TrainingInterrupted

if TYPE_CHECKING:
    import torch
    from peft import PeftModel
    from transformers import PreTrainedModel

ALL_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TrainSettings:
    """How to train; what shapes the weights (not steps, evaluation or checkpoints) must match to resume."""

    steps: int
    seed: int = 0
    lr: float = 3e-4
    rank: int = 8
    alpha: float = 16.0
    seq_len: int = 768
    targets: tuple[str, ...] = ALL_TARGETS
    eval_every: int = 25
    eval_samples: int = 16
    checkpoint_every: int = 10
    warmup_steps: int = 10
    focus_weight: float = 1.0  # loss weight of a fix's changed reply lines (lingcode.tune.focus)

    def fingerprint(self) -> dict[str, Any]:
        """The settings a resumed run must share with the interrupted one: those that shape the weights."""
        settings = asdict(self)
        for free in ("steps", "eval_every", "eval_samples", "checkpoint_every"):
            del settings[free]
        if self.focus_weight == 1.0:  # runs from before the setting existed resume as before
            del settings["focus_weight"]
        settings["targets"] = list(self.targets)
        return settings


# on_step(step, record) after each finished step, for the progress bar
StepCallback = Callable[[int, dict[str, Any]], None]


def attach_lora(model: PreTrainedModel, settings: TrainSettings) -> PeftModel:
    """The base wrapped with fresh LoRA factors (A random under the seed, B zero), base weights frozen."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(settings.seed)
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,  # type: ignore[arg-type]  # peft annotates int; it scales by alpha / r as floats
        lora_dropout=0.0,
        target_modules=list(settings.targets),
        bias="none",
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft calls a transformers method deprecated in 5.x
        return get_peft_model(model, config)


@lru_cache(maxsize=4)
def _permutation(seed: int, epoch: int, count: int) -> tuple[int, ...]:
    return tuple(random.Random(f"{seed}:epoch:{epoch}").sample(range(count), count))


def sample_index(seed: int, step: int, count: int) -> int:
    """Which training sample step `step` (0-based) uses: pass `step // count` over a seeded permutation."""
    return _permutation(seed, step // count, count)[step % count]


def validation_subset(samples: Sequence[Sample], settings: TrainSettings) -> list[Sample]:
    """The validation samples scored at each evaluation: a seeded subset, the same for every evaluation."""
    count = min(settings.eval_samples, len(samples))
    return random.Random(f"{settings.seed}:valid").sample(list(samples), count)


def reply_loss(model: PeftModel, sample: Sample, device: str, focus_weight: float = 1.0) -> torch.Tensor:
    """Cross-entropy of the reply tokens given everything before them, averaged with weights.

    A token of `sample.focus` weighs `focus_weight`, every other reply token 1 (1: the plain mean, as
    evaluation reports it). Only the positions that predict a reply token go through the output layer
    (`logits_to_keep`): with Gemma's 262k-token vocabulary that layer is most of a step's work, and the
    prompt's logits are unused.
    """
    import torch
    from torch.nn.functional import cross_entropy

    ids = torch.tensor([sample.ids], dtype=torch.long, device=device)
    keep = (
        len(sample.ids) - sample.prompt_tokens + 1
    )  # the last prompt position predicts the first reply token
    logits = model(input_ids=ids, logits_to_keep=keep).logits
    if focus_weight == 1.0 or not sample.focus:
        return cross_entropy(logits[0, :-1].float(), ids[0, sample.prompt_tokens :])
    losses = cross_entropy(logits[0, :-1].float(), ids[0, sample.prompt_tokens :], reduction="none")
    weights = torch.ones_like(losses)
    weights[list(sample.focus)] = focus_weight
    return (losses * weights).sum() / weights.sum()


def evaluate(model: PeftModel, samples: Sequence[Sample], device: str) -> float | None:
    """Mean loss per reply token over `samples`; None when there are none."""
    import torch

    if not samples:
        return None
    total, tokens = 0.0, 0
    model.eval()
    with torch.no_grad():
        for sample in samples:
            replied = len(sample.ids) - sample.prompt_tokens
            total += reply_loss(model, sample, device).item() * replied
            tokens += replied
    model.train()
    return total / tokens


def _optimizer(model: PeftModel, settings: TrainSettings) -> torch.optim.Optimizer:
    import torch

    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(trainable, lr=settings.lr, weight_decay=0.0)


def _learning_rate(settings: TrainSettings, step: int) -> float:
    return settings.lr * min(1.0, (step + 1) / max(1, settings.warmup_steps))


def train_step(
    model: PeftModel,
    optimizer: torch.optim.Optimizer,
    sample: Sample,
    lr: float,
    device: str,
    focus_weight: float = 1.0,
) -> tuple[float, float]:
    """One forward, backward and AdamW step on one sample; (loss, tokens per second)."""
    import torch

    for group in optimizer.param_groups:
        group["lr"] = lr
    began = time.perf_counter()
    loss = reply_loss(model, sample, device, focus_weight)
    loss.backward()  # type: ignore[no-untyped-call]  # torch 2.13 leaves Tensor.backward unannotated
    torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.detach().item(), len(sample.ids) / max(time.perf_counter() - began, 1e-9)


def train(
    model: PeftModel,
    samples: Sequence[Sample],
    valid: Sequence[Sample],
    settings: TrainSettings,
    folder: Path,
    on_step: StepCallback,
    device: str = "cpu",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train to `settings.steps`, resuming from `folder`'s checkpoint; (per-step log, extra figures).

    A checkpoint is written every `checkpoint_every` steps and at the end; Ctrl-C raises TrainingInterrupted.
    """
    optimizer = _optimizer(model, settings)
    resumed = checkpoint.load(folder, model, optimizer)
    history = resumed.history if resumed else []
    extra = resumed.extra if resumed else {"valid_loss_before": evaluate(model, valid, device)}
    step = resumed.step if resumed else 0
    model.train()
    try:
        while step < settings.steps:
            sample = samples[sample_index(settings.seed, step, len(samples))]
            lr = _learning_rate(settings, step)
            loss, rate = train_step(model, optimizer, sample, lr, device, settings.focus_weight)
            step += 1
            record: dict[str, Any] = {
                "step": step,
                "loss": loss,
                "tokens": len(sample.ids),
                "tokens_per_s": rate,
            }
            if step % settings.eval_every == 0 or step == settings.steps:
                record["valid_loss"] = evaluate(model, valid, device)
            history.append(record)
            on_step(step, record)
            if step % settings.checkpoint_every == 0 or step == settings.steps:
                checkpoint.save(folder, model, optimizer, step, history, extra)
    except KeyboardInterrupt:
        done = checkpoint.load_step(folder)
        where = f"its checkpoint after step {done}" if done else "no checkpoint yet: from the start"
        raise TrainingInterrupted(
            f"interrupted after {step} of {settings.steps} steps; nothing was published. Rerun the same"
            f" command to resume ({where}, in {folder})"
        ) from None
    return history, extra
