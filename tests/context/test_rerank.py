"""The second ranking stage: best-passage scoring and quoted literals, read from the top candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from lingcode.context.engine import rank_context, snapshot
from lingcode.context.literals import Phrase, literal_scores, quoted_phrases
from lingcode.context.passages import leaf_spans, passage_scores, split_passages
from lingcode.context.rank import rank_files
from tests.conftest import GitRepoFactory


def _hub_module() -> str:
    """A large module touching every word of the task below, each in a different function."""
    words = ["cache", "expire", "entries", "timeout", "clock", "stale", "refresh", "ttl"]
    parts = ['"""The service hub: wiring, settings and helpers for the cache layer."""\n']
    for n in range(40):
        word = words[n % len(words)]
        parts.append(
            f"\n\ndef helper_{n}(value, options):\n    # {word} handling\n"
            "    result = dict(options)\n    for key in sorted(result):\n        result[key] = str(value)\n"
            "    return result\n"
        )
    return "".join(parts)


FOCUSED = '''"""Small utilities."""


def sweep(store, now):
    """Drop stale entries whose ttl expired: entries older than the timeout by the clock."""
    for key, (stamp, ttl) in list(store.items()):
        if now - stamp > ttl:  # stale: expire the entry, refresh happens on the next read
            del store[key]


def unrelated(x):
    return x * 2
'''

TASK = (
    "Cache entries never expire\n\nStale entries stay in the cache after their ttl: the timeout is "
    "compared with the wrong clock, so nothing is dropped until a refresh. Expire stale entries."
)


FILLER = {f"svc/part{n}.py": f"def part_{n}(x):\n    return x + {n}\n" for n in range(6)}
"""Unrelated modules: in a repository of three files every word is common, and BM25 ignores it."""


def _orders(root: Path, task: str) -> tuple[list[str], list[str]]:
    """The two-stage order and the index-only (first stage) order of the repository's files."""
    records, ranked = rank_context(task, root)
    snap = snapshot(root, progress=False)
    try:
        first = rank_files(snap.conn, snap.records, task)
        return [records[r.index].path for r in ranked], [snap.records[r.index].path for r in first]
    finally:
        snap.conn.close()


def test_best_passage_beats_a_hub_module_that_scatters_the_words(make_repo: GitRepoFactory) -> None:
    root = make_repo(
        {
            "svc/cache.py": _hub_module(),
            "svc/util.py": FOCUSED,
            **FILLER,
        }
    )
    two_stage, first_stage = _orders(root, TASK)
    assert first_stage[0] == "svc/cache.py"  # file-level BM25 and the path word alone prefer the hub
    assert two_stage[0] == "svc/util.py"


def test_quoted_warning_finds_the_file_that_prints_it(make_repo: GitRepoFactory) -> None:
    words = "Assign a number to each table and figure with a caption; warn when numbering fails."
    root = make_repo(
        {
            "site/domains/std.py": (
                "def resolve(node, figtype):\n"
                "    if node is None:\n"
                "        logger.warning('no number is assigned for %s: %s', figtype, node)\n"
            ),
            "site/builders/numbers.py": f'"""{words}"""\n\ndef assign_numbers(table, figure):\n'
            "    return {'table': table, 'figure': figure}\n",
            **FILLER,
        }
    )
    task = (
        "v3.3 started generating warnings\n\nWith latex builds we now get\n\n"
        "`WARNING: no number is assigned for table:`\n\nfor every table with a caption."
    )
    two_stage, first_stage = _orders(root, task)
    assert first_stage[0] == "site/builders/numbers.py"
    assert two_stage[0] == "site/domains/std.py"


def test_quoted_option_name_finds_its_declaration(make_repo: GitRepoFactory) -> None:
    root = make_repo(
        {
            "tool/main.py": "def add_options(parser):\n"
            "    parser.addoption('--collect-only', action='store_true', help='only collect tests')\n",
            "tool/runner.py": '"""Running: collect tests and modules; '
            'collect only those asked for, collect only once."""\n'
            "def select(items, wanted):\n    return [i for i in items if i in wanted]\n",
            **FILLER,
        }
    )
    task = (
        "`--collect-only` needs a one char shortcut\n\n"
        "I run --collect-only often; collect only is long to type."
    )
    two_stage, first_stage = _orders(root, task)
    assert first_stage[0] == "tool/runner.py"
    assert two_stage[0] == "tool/main.py"


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Run with `--collect-only` please", [Phrase("--collect-only", False)]),
        ("`WARNING: no number is assigned for table:`", [Phrase("no number is assigned for table", True)]),
        ("ValueError: Unable to parse the given value\n", [Phrase("Unable to parse the given value", True)]),
        ("set 'rst_prolog' in conf", [Phrase("rst_prolog", False)]),
        # file names, paths and plain words are not specific enough to look for in literals
        ("see `docs/index.rst` and `a.py` and 'pytest'", []),
    ],
)
def test_quoted_phrases(task: str, expected: list[Phrase]) -> None:
    assert quoted_phrases(task) == expected


def test_literal_scores_need_a_quote_and_prefer_rare_phrases() -> None:
    texts = {
        0: "log('no number is assigned for %s' % kind)",
        1: "# no number is assigned for this, says a comment",
        2: "x = '--verbose'",
        3: "y = '--verbose'",
    }
    scores = literal_scores(
        texts, [Phrase("no number is assigned for table", True), Phrase("--verbose", False)]
    )
    assert set(scores) == {0, 2, 3}
    assert scores[0] > scores[2] == scores[3]


def test_leaf_spans_and_passages() -> None:
    defs = [("C", "class", 1, 6, "class C:"), ("f", "method", 2, 3, "def f"), ("g", "method", 5, 6, "def g")]
    assert leaf_spans(defs) == [(2, 3), (5, 6)]
    text = "class C:\n    def f(self):\n        return 1\n    x = 2\n    def g(self):\n        return 3\n"
    assert split_passages(text, defs) == [
        "    def f(self):\n        return 1",
        "    def g(self):\n        return 3",
        "class C:\n    x = 2",
    ]


def test_passage_scores_rank_a_file_by_its_best_passage() -> None:
    scattered = "def a():\n    cache = 1\n\ndef b():\n    expire = 2\n\ndef c():\n    ttl = 3\n"
    together = "def a():\n    cache = expire = ttl = 1\n\ndef b():\n    return 0\n"
    defs = {
        0: [("a", "function", 1, 2, ""), ("b", "function", 4, 5, ""), ("c", "function", 7, 8, "")],
        1: [("a", "function", 1, 2, ""), ("b", "function", 4, 5, "")],
    }
    scores = passage_scores({0: scattered, 1: together}, defs, {"cache": 1.0, "expire": 1.0, "ttl": 1.0})
    assert scores[1] > scores[0] > 0
