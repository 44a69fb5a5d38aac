"""The second ranking stage: evidence read from the text of the top candidates of the first.

The first stage ranks every file from the index alone. This stage reads the best `CANDIDATES` of them
from the work tree and scores them by their best-matching passages (`passages.py`) and by the task's
quoted text found in their string literals (`literals.py`); both come back as arrays over the records,
zero outside the candidates, for `rank.fuse` to add to the direct evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lingcode.context.files import safe_path
from lingcode.context.index import FileRecord
from lingcode.context.literals import literal_scores, quoted_phrases
from lingcode.context.passages import passage_scores
from lingcode.errors import UsageError

CANDIDATES = 50
"""How many first-stage files are read. On the SWE-bench Lite dev tasks 50 ranks as well as 100 (Acc@5)
at half the cost (about 0.1 s of CPU on those trees): past the first 50 a file is rarely the one to change."""


@dataclass
class Evidence:
    """Second-stage scores over all records (zero outside the candidates), each max-normalised."""

    passages: np.ndarray
    literals: np.ndarray
    order: np.ndarray
    """The candidates: the best `CANDIDATES` record indices by the first stage, best first."""


def _read(root: Path, path: str) -> str:
    try:
        return safe_path(root, path).read_text(encoding="utf-8", errors="replace")
    except (OSError, UsageError):
        return ""  # deleted since indexing, or a link out of the tree: no evidence rather than a failure


def _array(n: int, scores: Mapping[int, float]) -> np.ndarray:
    out = np.zeros(n)
    if scores:
        out[list(scores)] = list(scores.values())
    return out


def _normalise(values: np.ndarray) -> np.ndarray:
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else values


def candidate_evidence(
    records: Sequence[FileRecord],
    first: np.ndarray,
    prior: np.ndarray,
    root: Path,
    task: str,
    query: Mapping[str, float],
) -> Evidence:
    """Read the best `CANDIDATES` files by the first-stage scores `first` and score their text for the task.

    `prior` (the demotion of tests and docs) applies to literal matches before normalising, so a message
    quoted in a translation catalogue does not set the scale for the source that prints it.
    """
    n = len(records)
    best = np.argsort(-first, kind="stable")[:CANDIDATES]
    order = best.tolist()
    chosen = [i for i in order if not records[i].status and first[i] > 0]
    texts = {i: _read(root, records[i].path) for i in chosen}
    defs = {i: records[i].definitions for i in chosen}
    passages = _array(n, passage_scores(texts, defs, query))
    literals = _array(n, literal_scores(texts, quoted_phrases(task)))
    return Evidence(_normalise(passages), _normalise(literals * prior), best)
