"""The checkpoint an interrupted training run resumes from: LoRA weights, optimizer state, RNG states, the
step reached and the log so far, in one file replaced atomically (a crash mid-write keeps the previous one).
"""

from __future__ import annotations

import io
import os
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from peft import PeftModel

FILE = "checkpoint.pt"


@dataclass(frozen=True)
class Resumed:
    """What a checkpoint restored: the number of finished steps and their log records."""

    step: int
    history: list[dict[str, Any]]
    extra: dict[str, Any]


def save(
    folder: Path,
    model: PeftModel,
    optimizer: torch.optim.Optimizer,
    step: int,
    history: list[dict[str, Any]],
    extra: dict[str, Any],
) -> None:
    """Write the checkpoint after `step` steps (serialised in memory first: a full disk is an OSError)."""
    import torch

    rng: dict[str, Any] = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1])}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    state = {
        "step": step,
        "lora": lora_weights(model),
        "optimizer": optimizer.state_dict(),
        "rng": rng,
        "history": history,
        "extra": extra,
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    partial = folder / f".{FILE}.partial"
    with partial.open("wb") as handle:
        handle.write(buffer.getbuffer())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, folder / FILE)


def lora_weights(model: PeftModel) -> dict[str, torch.Tensor]:
    """The LoRA factors by PEFT key (`...layers.3.self_attn.q_proj.lora_A.weight`)."""
    from peft import get_peft_model_state_dict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # peft warns that a GGUF's folder has no config.json: nothing to save
        return dict(get_peft_model_state_dict(model))


def load(folder: Path, model: PeftModel, optimizer: torch.optim.Optimizer) -> Resumed | None:
    """Restore the checkpoint into `model` and `optimizer`; None when there is none."""
    import torch
    from peft import set_peft_model_state_dict

    path = folder / FILE
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    set_peft_model_state_dict(model, state["lora"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"]["torch"])
    random.setstate((3, tuple(state["rng"]["python"]), None))
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    return Resumed(int(state["step"]), list(state["history"]), dict(state["extra"]))


def exists(folder: Path) -> bool:
    """Whether there is a checkpoint to resume from."""
    return (folder / FILE).is_file()


def load_step(folder: Path) -> int:
    """The number of finished steps the checkpoint holds (0: none yet)."""
    import torch

    path = folder / FILE
    if not path.is_file():
        return 0
    return int(torch.load(path, map_location="cpu", weights_only=True)["step"])
