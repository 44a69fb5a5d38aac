"""scripts/demo.sh (the README's first command) end to end, the scripted server standing in for the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lingcode.model.scripted import ScriptedServer

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.sh"
LINGCODE = Path(sys.executable).with_name("lingcode")


def _demo(url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(DEMO), "--model-url", url],
        env={**os.environ, "LINGCODE": str(LINGCODE), "DEMO_ITERATIONS": "1", **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_says_plainly_what_the_model_can_do_and_sends_the_seed(tmp_path: Path) -> None:
    with ScriptedServer(["I am not sure what to change."] * 8) as server:
        done = _demo(server.base_url, DEMO_SEED="3", DEMO_TEMPERATURE="0.8", XDG_DATA_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr  # a clean end: lingcode ran, the model fixed nothing
    # no default adapter: the one that ships with lingcode, said so, and what a 270M model cannot do
    shipped = DEMO.parents[1] / "lingcode" / "adapters" / "embedded"
    assert f"the LoRA adapter that ships with lingcode\ndemo: ({shipped}:" in done.stderr
    assert "fails on most real bugs" in done.stderr
    assert "--model-url" in done.stderr  # how to point it at a real model
    assert "did not fix the bug" in done.stderr
    assert server.requests and all(r["seed"] == 3 and r["temperature"] == 0.8 for r in server.requests)


def test_demo_names_the_default_adapter_when_one_is_there(tmp_path: Path) -> None:
    adapter = tmp_path / "data" / "lingcode" / "adapters" / "default"
    adapter.mkdir(parents=True)
    with ScriptedServer(["I am not sure what to change."] * 8) as server:
        done = _demo(server.base_url, XDG_DATA_HOME=str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr
    assert f"with the adapter that `lingcode tune` left in\ndemo: {adapter}" in done.stderr
    assert "untuned" not in done.stderr
