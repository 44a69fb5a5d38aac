"""model.resample: after an edit the tests reject, undo it and sample a fresh reply to the first prompt.

A model under 1B parameters answers the failure feedback worse than it answers the task: on the calc demo
the tuned embedded model (adapter r5) fixed the bug in its first reply in 5 of 10 sampled runs, and in none
of the 5 second replies that saw its failed edit and the test output (benchmarks/RESULTS.md, "Demo pass
rate"). So
for such a model a failed round is undone (this run's edits only: files it changed get their bytes back) and
the conversation goes back to the first prompt, to be asked again at a temperature of at least
RESAMPLE_TEMPERATURE with a new seed each time: best of n, judged by the tests. The last round's edit is
kept, as without resampling. Larger models keep the feedback loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lingcode.loop.focus import is_small_model

if TYPE_CHECKING:
    from lingcode.loop.workspace import Workspace

RESAMPLE_TEMPERATURE = 0.8


def wants_resample(setting: str, model_name: str) -> bool:
    """model.resample: on, off, or auto (on for models under 1B parameters by their served name)."""
    if setting != "auto":
        return setting == "on"
    return is_small_model(model_name)


def resample(ws: Workspace, prompt_len: int, count: int, why: str) -> tuple[float, int]:
    """Undo the run's edits and keep only the first prompt; the (temperature, seed) to ask it again with.

    Also after an edit that changed nothing (REPLACE = SEARCH): told so, a small model sends the same copy
    again, and the run ends on the repeated edit (the four-repository adapter r6 on the demo)."""
    ws.changes.revert()
    del ws.messages[prompt_len:]
    temperature = max(ws.config.model.temperature, RESAMPLE_TEMPERATURE)
    ws.notice(f"{why}: edit undone, asking for a fresh reply to the task (sample {count + 1})")
    ws.record("resample", sample=count + 1, temperature=temperature)
    return temperature, (ws.config.model.seed or 0) + count + 1
