"""Ranking signals, symbol search and related tests."""

from __future__ import annotations

import math

from lingcode.config import ContextConfig
from lingcode.context import build_context, find_symbol, related_tests
from lingcode.context.files import is_test_path
from lingcode.context.lexical import query_weights
from tests.conftest import GitRepoFactory
from tests.context.helpers import mini_repo


def test_identifier_in_task_ranks_its_definer_first(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    assert build_context("round_price rounds wrongly", root, 500).files[0].path == "shop/pricing.py"
    assert build_context("the Cart class forgets items", root, 500).files[0].path == "shop/cart.py"


def test_traceback_frames_point_at_files(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    task = (
        'Traceback (most recent call last):\n  File "/usr/lib/site-packages/shop/cli.py", line 7, in main\n'
    )
    assert build_context(task, root, 500).files[0].path == "shop/cli.py"


def test_files_in_the_diff_rank_high(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    (root / "README.md").write_text("# shop\n\nChanged.\n")
    top = build_context("unrelated words", root, 500).files[0]
    assert (top.path, top.reason) == ("README.md", "in diff")


def test_find_symbol(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    hits = find_symbol(root, "Cart.total")
    assert [(h.path, h.kind) for h in hits] == [("shop/cart.py", "method")]
    assert hits[0].signature.startswith("def total(self")
    assert find_symbol(root, "no_such_name") == []


def test_related_tests(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    assert related_tests(root, ["shop/cart.py"]) == ["tests/test_cart.py"]
    assert related_tests(root, ["README.md"]) == []


def test_is_test_path() -> None:
    assert (
        is_test_path("tests/test_cart.py") and is_test_path("pkg/foo_test.go") and is_test_path("a.spec.ts")
    )
    assert not is_test_path("shop/cart.py") and not is_test_path("contest.py")


def test_embedding_rerank_is_a_clean_no_op_without_the_extra(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    plain = build_context("round_price rounds wrongly", root, 500)
    embedded = build_context("round_price rounds wrongly", root, 500, config=ContextConfig(embed=True))
    assert embedded.files[0].path == plain.files[0].path == "shop/pricing.py"


def test_title_terms_weigh_more_than_the_body() -> None:
    weights = query_weights("Dates use the wrong timezone\n\nThe log says: dates dates dates handler")
    assert weights["timezone"] == 3 * weights["handler"]
    assert weights["dates"] == 3 * (1 + math.log(4))
    # a one-line task is all title: nothing to boost over
    assert query_weights("wrong timezone handler")["timezone"] == 1.0


def test_the_title_outweighs_a_log_pasted_in_the_body(make_repo: GitRepoFactory) -> None:
    root = make_repo(
        {
            "app/clock.py": "def render_date(moment, zone):\n"
            '    """Dates are rendered in the timezone of the viewer."""\n'
            "    # the viewer's timezone, not the server's: the wrong one shifts dates by hours\n"
            "    return moment.astimezone(zone).isoformat()\n",
            "app/logs.py": "def configure_handler(stream, level):\n"
            '    """Attach a stream handler at the given level, with a formatter for every record."""\n'
            "    handler = make_stream_handler(stream)\n    handler.level = level\n    return handler\n",
            **{f"app/part{n}.py": f"def part_{n}(x):\n    return x + {n}\n" for n in range(6)},
        }
    )
    task = (
        "Dates rendered in the wrong timezone\n\nOutput with the debug handler on:\n\n"
        "```\nDEBUG handler stream level=10: record flushed\n```\n"
    )
    assert build_context(task, root, 500).files[0].path == "app/clock.py"
