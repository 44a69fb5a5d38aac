"""An interrupted `lingcode tune` publishes nothing, says how to go on in one line (exit 130), and the rerun
of the same command ends with the very adapter an uninterrupted run writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lingcode.errors import ExitCode
from tests.tune.conftest import needs_tune

pytestmark = [needs_tune, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
STEPS = "40"


def command(repo: Path, base: Path, out: Path) -> list[str]:
    """The same command each time; only --out differs between the interrupted and the whole run."""
    args = ["--from-repo", str(repo), "--base", str(base), "--out", str(out), "--steps", STEPS, "--seed", "2"]
    return [sys.executable, "-m", "lingcode", "tune", *args, "--eval-every", "50", "--threads", "1"]


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=False)


def interrupt_after_first_checkpoint(args: list[str], staging: Path) -> tuple[int, str]:
    """Start the run, send SIGINT as soon as its first checkpoint exists; (exit code, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    deadline = time.monotonic() + 300
    while not (staging / "checkpoint.pt").is_file() and process.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def losses(out: Path) -> list[float]:
    lines = (out / "log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["loss"] for line in lines]


def test_resumed_run_ends_bit_identical(sample_repo: Path, tiny_model: Path, tmp_path: Path) -> None:
    out, whole = tmp_path / "out", tmp_path / "whole"
    code, err = interrupt_after_first_checkpoint(
        command(sample_repo, tiny_model, out), tmp_path / ".out.partial"
    )
    assert code == ExitCode.INTERRUPTED, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("lingcode: interrupted after ") and "Rerun the same command" in last
    assert not out.exists()  # nothing served from a partial run

    resumed = run(command(sample_repo, tiny_model, out))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from step" in resumed.stderr
    assert run(command(sample_repo, tiny_model, whole)).returncode == 0

    assert (out / "adapter.gguf").read_bytes() == (whole / "adapter.gguf").read_bytes()
    assert losses(out) == losses(whole) and len(losses(out)) == int(STEPS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repo", "whole"]


def test_resume_refuses_other_settings(sample_repo: Path, tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _ = interrupt_after_first_checkpoint(
        command(sample_repo, tiny_model, out), tmp_path / ".out.partial"
    )
    assert code == ExitCode.INTERRUPTED
    other = run([*command(sample_repo, tiny_model, out), "--lr", "0.01", "--resume"])
    assert other.returncode == ExitCode.USAGE
    assert other.stderr.strip().splitlines()[-1].startswith("lingcode: cannot resume")
