"""The `lingcode context --json` contract and the `lingcode map` command, driven in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.context import index_path
from lingcode.context.tokens import BYTES_PER_TOKEN
from tests.conftest import GitRepoFactory
from tests.context.helpers import mini_repo


def test_context_json_contract(make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    root = mini_repo(make_repo)
    code = run_cli(
        [
            "context",
            "apply_discount ignores the coupon in Cart.total",
            "--root",
            str(root),
            "--json",
            "--budget",
            "600",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["files", "tokens", "budget", "text"]
    assert isinstance(data["tokens"], int) and 0 < data["tokens"] <= 600
    paths = [f["path"] for f in data["files"]]
    assert sorted(paths) == sorted(
        [
            "README.md",
            "shop/__init__.py",
            "shop/cart.py",
            "shop/cli.py",
            "shop/pricing.py",
            "tests/test_cart.py",
        ]
    )
    for entry in data["files"]:
        assert list(entry) == ["path", "score", "included", "shown", "lines", "symbols"]
        assert isinstance(entry["included"], bool) and isinstance(entry["score"], float)
        assert entry["shown"] in ("whole", "excerpt", "map", "path", None)
        assert entry["included"] == (entry["shown"] in ("whole", "excerpt"))
    scores = [f["score"] for f in data["files"]]
    assert scores == sorted(scores, reverse=True)
    assert paths[0] in ("shop/pricing.py", "shop/cart.py")
    assert any(f["included"] for f in data["files"])


def test_context_json_says_what_of_each_file_the_model_sees(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    filler = "".join(f"def helper_{i}(value):\n    return value + {i}\n\n\n" for i in range(300))
    target = "def compute_refund(order, policy):\n    refund = order.total * policy.rate\n    return refund\n"
    small = "def tiny():\n    return 1\n"
    root = make_repo(
        {"big.py": filler + target + "\n\n" + filler.replace("helper_", "other_"), "small.py": small}
    )
    task = "compute_refund ignores the policy rate for the order"
    assert run_cli(["context", task, "--root", str(root), "--json", "--budget", "1500"]) == 0
    data = json.loads(capsys.readouterr().out)
    files = {f["path"]: f for f in data["files"]}
    big = files["big.py"]
    assert (big["shown"], big["symbols"]) == ("excerpt", ["compute_refund"])
    start = filler.count("\n") + 1  # the line compute_refund's definition starts on
    assert big["lines"] == [[start, start + 2]]
    lines = (root / "big.py").read_text().splitlines()
    assert lines[start - 1].startswith("def compute_refund")
    assert target in data["text"]
    assert files["small.py"]["shown"] in ("whole", "map")
    if files["small.py"]["shown"] == "whole":
        assert files["small.py"]["lines"] == [[1, 2]]
    else:
        assert files["small.py"]["symbols"] == ["tiny"]
    assert run_cli(["context", task, "--root", str(root), "--json", "--no-text", "--budget", "1500"]) == 0
    assert "text" not in json.loads(capsys.readouterr().out)


def test_context_json_lists_map_symbols(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = mini_repo(make_repo)
    assert (
        run_cli(["context", "apply_discount in Cart.total", "--root", str(root), "--json", "--budget", "300"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    mapped = [f for f in data["files"] if f["shown"] == "map"]
    assert mapped, data["files"]
    for f in mapped:
        assert f["symbols"] and f["lines"] == []
        for name in f["symbols"]:
            assert name in data["text"]


def test_context_text_fits_the_budget(make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    root = mini_repo(make_repo)
    assert run_cli(["context", "round_price", "--root", str(root), "--budget", "200"]) == 0
    out = capsys.readouterr().out
    assert "shop/pricing.py" in out
    assert len(out.encode()) <= 200 * BYTES_PER_TOKEN + 1


def test_map_and_clear_cache(make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    root = mini_repo(make_repo)
    assert run_cli(["map", "--root", str(root), "--budget", "300"]) == 0
    assert "class Cart" in capsys.readouterr().out
    assert index_path(root).exists()
    assert run_cli(["map", "--root", str(root), "--clear-cache"]) == 0
    assert not index_path(root).exists()
    assert "cleared" in capsys.readouterr().err


def test_bad_root_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["map", "--root", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a directory" in err


def test_file_names_that_are_not_utf8_do_not_break_output(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo({"ok.py": "x = 1\n"})
    odd = os.fsdecode(b"caf\xe9.py")
    (root / odd).write_text("def cafe_function():\n    pass\n")
    assert run_cli(["map", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "caf\ufffd.py:" in out and "def cafe_function()" in out
    assert run_cli(["context", "cafe_function", "--root", str(root), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["files"]) == 2
