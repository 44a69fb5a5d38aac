"""The learned combiner: it re-orders the second stage's candidates and keeps them above every other file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lingcode.context.combine import FEATURES, WEIGHTS, Columns, features, reorder
from lingcode.context.engine import snapshot
from lingcode.context.lexical import content_bm25, content_bm25_split, query_weights, title_terms
from lingcode.context.rank import fuse, fuse_with_graph, rank_files, signals
from lingcode.context.rerank import candidate_evidence
from tests.conftest import GitRepoFactory

LOG_WORDS = [
    "scheduler",
    "worker",
    "queue",
    "retry",
    "backoff",
    "jitter",
    "lease",
    "heartbeat",
    "broker",
    "consumer",
]

FILES = {
    "app/clock.py": (
        "def convert_timezone(stamp, zone):\n"
        '    """Timezone conversion keeps the offset."""\n'
        "    offset = zone.utcoffset(stamp)\n"
        "    return stamp + offset\n"
    ),
    "app/jobs.py": "".join(
        f"def {w}_step(job):\n    # {w} {w} handling for the {w}\n    return job.{w}\n\n" for w in LOG_WORDS
    ),
    **{f"app/mod{n}.py": f"def f{n}(x):\n    return x + {n}\n" for n in range(8)},
}

TASK = "Timezone offset lost in conversion\n\nLog:\n" + "\n".join(
    f"{w} {w} event from the {w} in the scheduler run" for w in LOG_WORDS
)
"""A title naming the problem over a pasted log whose words all belong to another module."""


def _second_stage_order(root: Path, task: str) -> list[str]:
    """The order the two hand-weighted stages give, before the combiner."""
    snap = snapshot(root, progress=False)
    try:
        records = snap.records
        sig = signals(snap.conn, records, task)
        first, _graph = fuse_with_graph(sig)
        evidence = candidate_evidence(records, first, sig.prior, root, task, query_weights(task))
        sig.passages, sig.literals = evidence.passages, evidence.literals
        return [records[i].path for i in np.argsort(-fuse(sig), kind="stable")]
    finally:
        snap.conn.close()


def _engine_order(root: Path, task: str, named: tuple[str, ...] = ()) -> list[str]:
    snap = snapshot(root, progress=False)
    try:
        ranked = rank_files(snap.conn, snap.records, task, named, (), root)
        return [snap.records[r.index].path for r in ranked]
    finally:
        snap.conn.close()


def test_title_match_beats_a_module_matching_a_pasted_log(make_repo: GitRepoFactory) -> None:
    root = make_repo(dict(FILES))
    assert _second_stage_order(root, TASK)[0] == "app/jobs.py"  # the log's many words win by hand weights
    engine = _engine_order(root, TASK)
    assert engine[0] == "app/clock.py"
    assert sorted(engine) == sorted(FILES)  # a re-order: every file is still ranked, once


def test_named_files_still_rank_first(make_repo: GitRepoFactory) -> None:
    root = make_repo(dict(FILES))
    assert _engine_order(root, TASK, named=("app/mod3.py",))[0] == "app/mod3.py"


def _columns(n: int, fused: np.ndarray, lexical: np.ndarray | None = None) -> Columns:
    zeros = np.zeros(n)
    return Columns(
        zeros if lexical is None else lexical, zeros, zeros, zeros, zeros, zeros, zeros, np.ones(n), zeros,
        zeros, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.ones(n), fused,
    )  # fmt: skip


def test_candidates_stay_above_every_other_file() -> None:
    fused = np.array([0.2, 0.9, 0.1, 0.5, 0.95])
    order = np.array([1, 3])  # the candidates; record 4 scores higher but was not one
    out = reorder(_columns(5, fused, lexical=fused), order)
    ranked = np.argsort(-out, kind="stable").tolist()
    assert set(ranked[:2]) == {1, 3}
    assert ranked[2:] == [4, 0, 2]  # the others keep their fused order, below
    assert out.max() <= 0.9 and out.min() >= 0.0


def test_without_evidence_from_the_task_the_fused_order_stands() -> None:
    fused = np.full(4, 0.5)  # ties, as when nothing in the task matches: the weights must not break them
    out = reorder(_columns(4, fused), np.array([3, 2, 0, 1]))
    assert np.argsort(-out, kind="stable").tolist() == [0, 1, 2, 3]


def test_the_weights_cover_every_feature() -> None:
    cols = _columns(3, np.array([0.1, 0.2, 0.3]))
    assert features(cols, np.array([2, 0])).shape == (2, len(FEATURES)) == (2, len(WEIGHTS))


def test_content_bm25_splits_into_title_and_body_parts(make_repo: GitRepoFactory) -> None:
    root = make_repo(dict(FILES))
    snap = snapshot(root, progress=False)
    try:
        records = snap.records
        query = query_weights(TASK)
        title, body = content_bm25_split(snap.conn, records, query, title_terms(TASK))
        assert np.allclose(title + body, content_bm25(snap.conn, records, query))
        paths = [r.path for r in records]
        assert title[paths.index("app/clock.py")] > 0 and title[paths.index("app/jobs.py")] == 0
        assert body[paths.index("app/jobs.py")] > 0
    finally:
        snap.conn.close()
    assert title_terms("one line only") == frozenset()
