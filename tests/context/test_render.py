"""Rendering: a golden-file map, exact budgets, and full text of the top files."""

from __future__ import annotations

import os
from pathlib import Path

from lingcode.context import build_context, repo_map
from tests.conftest import GitRepoFactory
from tests.context.helpers import FIXTURES, mini_repo

GOLDEN = FIXTURES / "mini_map.golden.txt"


def test_rendered_map_matches_golden_file(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    text = repo_map(root, 400)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert repo_map(root, 400) == text  # the cached answer is the same


def test_budget_is_never_exceeded_with_a_model_tokenizer(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)

    def words(text: str) -> int:  # a stand-in tokenizer: one token per whitespace-separated word
        return len(text.split())

    for budget in (5, 40, 80, 150, 1000):
        ctx = build_context("Cart total with coupon", root, budget, count_tokens=words)
        assert ctx.tokens == words(ctx.text) <= budget


def test_estimate_budgets_and_included_flags(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    small = build_context("apply_discount coupon", root, 120)
    big = build_context("apply_discount coupon", root, 5000)
    assert small.tokens <= 120 and big.tokens <= 5000
    assert sum(f.included for f in big.files) > sum(f.included for f in small.files)
    for f in big.files:
        if f.included:
            assert f"### {f.path}\n" in big.text
    cart = (Path(root) / "shop" / "cart.py").read_text()
    assert cart in big.text


def test_named_files_come_first(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    ctx = build_context("anything", root, 2000, named_files=["shop/cli.py"])
    assert ctx.files[0].path == "shop/cli.py" and ctx.files[0].reason == "named"


def test_large_top_file_is_sent_as_an_excerpt_of_what_the_task_names(make_repo: GitRepoFactory) -> None:
    filler = "".join(f"def helper_{i}(value):\n    return value + {i}\n\n\n" for i in range(300))
    target = "def compute_refund(order, policy):\n    refund = order.total * policy.rate\n    return refund\n"
    root = make_repo(
        {"big.py": filler + target + "\n\n" + filler.replace("helper_", "other_"), "small.py": "x = 1\n"}
    )
    ctx = build_context("compute_refund ignores the policy rate for the order", root, 1500)
    top = ctx.files[0]
    assert (top.path, top.included) == ("big.py", True)
    assert ctx.excerpted == ["big.py"]
    assert target in ctx.text
    assert "def helper_150(value)" not in ctx.text
    assert ctx.tokens <= 1500


def test_cached_map_follows_edits_and_new_files(make_repo: GitRepoFactory) -> None:
    root = mini_repo(make_repo)
    assert "def brand_new" not in repo_map(root, 2000)
    pricing = root / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text() + "\n\ndef brand_new(amount):\n    return amount\n")
    assert "def brand_new(amount)" in repo_map(root, 2000)
    (root / "shop" / "extra.py").write_text("def another_one():\n    pass\n")
    assert "def another_one()" in repo_map(root, 2000)
    (root / "shop" / "extra.py").unlink()
    assert "another_one" not in repo_map(root, 2000)


def test_a_larger_room_never_loses_the_excerpt() -> None:
    # per-definition costs leave out the enclosing class lines: with room for the methods but not for their
    # long class line the excerpt used to vanish, so a 16k budget sent less of the top file than 8k did
    from lingcode.context.excerpt import excerpt
    from lingcode.context.tokens import estimate_tokens

    bases = ", ".join(f"ParserMixinNumber{i}" for i in range(12))
    lines = [f"class SignatureParser({bases}):\n"]
    defs = []
    for i in range(6):
        start = len(lines) + 1
        signature = f"def parse_signature_{i}(self, text):"
        lines += [f"    {signature}\n", "        return parse_signature(text, 'typehints')\n"]
        defs.append((f"parse_signature_{i}", "method", start, start + 1, signature))
    defs.insert(0, ("SignatureParser", "class", 1, len(lines), lines[0].strip()))
    text = "".join(lines)
    task = "parse_signature drops the typehints of the signature"
    rooms = range(60, 600, 5)
    found = [excerpt("parser.py", text, defs, task, room, estimate_tokens) for room in rooms]
    first = next(i for i, part in enumerate(found) if part is not None)
    # room for the head, the class line and one method (about 180 tokens) is enough, and more room keeps it
    assert rooms[first] <= 220
    assert all(part is not None for part in found[first:])
    assert all(estimate_tokens(p) <= room for room, p in zip(rooms, found, strict=True) if p is not None)
    assert "class SignatureParser" in str(found[first])
