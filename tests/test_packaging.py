"""The wheel ships the prompts and the package data that lingcode finds at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_prompts_queries_and_styles(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("lingcode-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    prompts = {p.name for p in (ROOT / "prompts").glob("*.j2")}
    assert prompts, "no prompts in the source tree"
    for name in prompts:
        assert f"lingcode/prompts/{name}" in names
    assert any(n.startswith("lingcode/context/queries/") and n.endswith(".scm") for n in names)
    assert any(n.startswith("lingcode/ui/") and n.endswith(".tcss") for n in names)
