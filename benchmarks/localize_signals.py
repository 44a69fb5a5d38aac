"""Per-task ranking signals, cached, so that leave-one-repository-out folds can re-choose settings cheaply.

Every signal of lingcode's ranker is computed once per task, split so that each tunable setting can be
re-applied without touching the repository again:

- the lexical signals (content, path and definition-name BM25) are linear in the query's term weights, so
  each is kept as two unnormalised arrays, title terms and body terms: any title factor b is `b*T + N`;
- the prior is kept as its parts (test, doc and unparsed/unknown-language factors);
- the second stage's evidence depends on which files are candidates, so the passages of a wide pool of
  files are kept as query-term counts, and each quoted phrase's match share per pool file, from which
  `localize_sim.py` recomputes passage BM25 and literal idf over any candidate set.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lingcode.context.files import is_test_path
from lingcode.context.graph import Graph, name_table, reference_graph
from lingcode.context.index import FileRecord
from lingcode.context.lexical import bag_bm25, content_bm25, path_words, symbol_words
from lingcode.context.literals import _match, quoted_phrases
from lingcode.context.passages import _TermFinder, split_passages
from lingcode.context.query import PathLookup, find_mentions
from lingcode.context.rank import _DOC_HINT, _normalise, _symbol_scores
from lingcode.context.rerank import _read
from lingcode.context.terms import terms

POOL = 200
"""Files per task whose passages are kept: the best of each signal, so any candidate set up to 100 fits."""


@dataclass
class TaskSignals:
    """One task's cached signals over the repository's records (arrays have one entry per record)."""

    task_id: str
    repo: str
    n: int
    gold: list[int]
    """Record indices of the gold files (a gold file that is not a record can never be found)."""
    gold_missing: int
    title: dict[str, np.ndarray]
    """Unnormalised BM25 of the title terms: keys lexical, path, names."""
    body: dict[str, np.ndarray]
    symbols: np.ndarray
    mentioned: np.ndarray
    tests: np.ndarray
    docs: np.ndarray
    other_prior: np.ndarray
    graph: Graph
    terms: list[str]
    term_base: np.ndarray
    """1 + log(count) per query term."""
    term_title: np.ndarray
    """Whether the term is in the title (when the task has a body)."""
    pool: np.ndarray
    """Record indices of the pool files (readable, indexed)."""
    passage_owner: np.ndarray
    passage_length: np.ndarray
    tf_passage: np.ndarray
    tf_term: np.ndarray
    tf_count: np.ndarray
    """COO of query-term counts per passage."""
    phrase_sentence: np.ndarray
    phrase_share: np.ndarray
    """phrases x pool: the share of each phrase matched after a quote in each pool file."""


def _query_parts(task: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    counts: dict[str, int] = {}
    for t in terms(task):
        counts[t] = counts.get(t, 0) + 1
    title, _, body = task.strip().partition("\n")
    in_title = set(terms(title)) if body.strip() else set()
    names = sorted(counts)
    base = np.array([1.0 + np.log(counts[t]) for t in names])
    return names, base, np.array([t in in_title for t in names], dtype=bool)


def _prior_parts(records: Sequence[FileRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    paths = [r.path for r in records]
    tests = np.array([is_test_path(p) for p in paths], dtype=bool)
    docs = np.array([bool(_DOC_HINT.intersection(p.lower().split("/")[:-1])) for p in paths], dtype=bool)
    other = np.array([0.3 if r.status else 0.6 if r.language is None else 1.0 for r in records])
    return tests, docs, other


def _pool(arrays: Sequence[np.ndarray], records: Sequence[FileRecord]) -> np.ndarray:
    chosen: set[int] = set()
    for values in arrays:
        top = np.argsort(-values, kind="stable")[:POOL]
        chosen.update(int(i) for i in top if values[i] > 0)
    return np.array(sorted(i for i in chosen if not records[i].status), dtype=np.int64)


def _lexical_parts(
    conn: object, records: Sequence[FileRecord], qterms: list[str], base: np.ndarray, in_title: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Unnormalised content, path and name BM25 of the title terms ("title") and the others ("body")."""
    paths = [r.path for r in records]
    split = {
        "title": {t: float(w) for t, w, k in zip(qterms, base, in_title, strict=True) if k},
        "body": {t: float(w) for t, w, k in zip(qterms, base, in_title, strict=True) if not k},
    }
    parts: dict[str, dict[str, np.ndarray]] = {}
    for part, query in split.items():
        zero = np.zeros(len(records))
        parts[part] = {
            "lexical": content_bm25(conn, records, query) if query else zero,  # type: ignore[arg-type]
            "path": bag_bm25([path_words(p) for p in paths], query) if query else zero,
            "names": bag_bm25([symbol_words(r) for r in records], query) if query else zero,
        }
    return parts


def compute(
    task_id: str,
    repo: str,
    task: str,
    gold: set[str],
    conn: object,
    records: Sequence[FileRecord],
    root: Path,
) -> TaskSignals:
    """Every cached signal of one task (conn: the index's sqlite3 connection)."""
    paths = [r.path for r in records]
    names_table = name_table(records)
    counts = names_table.counts()
    defined = {name: int(counts[col]) for name, col in names_table.ids.items()}
    mentions = find_mentions(task, PathLookup(paths), defined)
    mentioned = np.zeros(len(records))
    mentioned[list(mentions.files)] = list(mentions.files.values())
    qterms, base, in_title = _query_parts(task)
    parts = _lexical_parts(conn, records, qterms, base, in_title)
    symbols = _normalise(_symbol_scores(records, mentions, names_table))
    tests, docs, other = _prior_parts(records)
    pool = _pool(
        [parts["title"][k] + parts["body"][k] for k in ("lexical", "path", "names")]
        + [3 * parts["title"][k] + parts["body"][k] for k in ("lexical", "path", "names")]
        + [symbols, mentioned],
        records,
    )
    texts = {int(i): _read(root, records[int(i)].path) for i in pool}
    owner, length, rows, cols, tfs = _passage_counts(texts, records, qterms)
    phrases = quoted_phrases(task)
    shape = (len(phrases), len(pool))
    share = np.array([[_match(ph, texts[int(i)]) for i in pool] for ph in phrases]).reshape(shape)
    index_of = {p: i for i, p in enumerate(paths)}
    found = sorted(index_of[g] for g in gold if g in index_of)
    return TaskSignals(
        task_id,
        repo,
        len(records),
        found,
        len(gold) - len(found),
        parts["title"],
        parts["body"],
        symbols,
        mentioned,
        tests,
        docs,
        other,
        reference_graph(records, names_table),
        qterms,
        base,
        in_title,
        pool,
        owner,
        length,
        rows,
        cols,
        tfs,
        np.array([ph.sentence for ph in phrases], dtype=bool),
        share,
    )


def _passage_counts(
    texts: dict[int, str], records: Sequence[FileRecord], qterms: list[str]
) -> tuple[np.ndarray, ...]:
    finder = _TermFinder({t: 1.0 for t in qterms})
    column = {t: k for k, t in enumerate(qterms)}
    owner: list[int] = []
    length: list[int] = []
    rows: list[int] = []
    cols: list[int] = []
    tfs: list[int] = []
    for i, text in texts.items():
        for passage in split_passages(text, records[i].definitions):
            found, size = finder.counts(passage)
            for term, count in found.items():
                rows.append(len(owner))
                cols.append(column[term])
                tfs.append(count)
            owner.append(i)
            length.append(size)
    return (
        np.array(owner, dtype=np.int64),
        np.array(length, dtype=np.float64),
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(tfs, dtype=np.float64),
    )


def load(path: Path) -> dict[str, TaskSignals]:
    """The cache file's tasks by instance id (empty when there is none)."""
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        loaded: dict[str, TaskSignals] = pickle.load(fh)
    return loaded


def save(path: Path, cache: dict[str, TaskSignals]) -> None:
    """Write the cache atomically."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(cache, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
