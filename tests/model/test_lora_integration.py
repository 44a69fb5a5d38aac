"""The real embedded llama.cpp server with real adapters made here (the gguf package's writer, the embedded
Gemma's own shapes): a big random adapter changes the greedy reply (so it is applied), an all-zero one does
not (so the difference is the adapter's weights, not the way it is loaded), the default adapter is picked and
said so, a server with another adapter is never reused for the wrong one, and doctor names the adapter.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.config import Config, ModelConfig, ServeConfig, cache_home
from lingcode.model import open_model
from lingcode.model.embedded import SHIPPED_ADAPTER
from lingcode.model.gguf import embedded_model_path
from lingcode.tune.adapter_check import default_adapter_dir
from tests.model.test_lora_check import make_adapter

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed (pip install 'lingcode[local]')",
    ),
    pytest.mark.skipif(importlib.util.find_spec("gguf") is None, reason="gguf comes with the tune extra"),
]

CTX = 2048
MESSAGES = [{"role": "user", "content": "Count from 1 to 10, separated by spaces."}]
BASE_NAME = "gemma-3-270m-q4_k_m"


@pytest.fixture(scope="module")
def lora_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """XDG_CACHE_HOME for these tests (models/ shared with the real cache when asked); the server is
    stopped at the end."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    if os.environ.get("LINGCODE_TEST_KEEP_CACHE"):
        kept = cache_home() / "models"
        kept.mkdir(parents=True, exist_ok=True)
        (cache / "lingcode").mkdir()
        (cache / "lingcode" / "models").symlink_to(kept, target_is_directory=True)
    yield cache
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        run_cli(["serve", "--stop"])


@pytest.fixture
def base_model(
    isolated_home: Path, lora_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """The embedded GGUF, with this module's cache and a fresh data home (no default adapter yet)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(lora_cache))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return embedded_model_path()


def _ask(serve: ServeConfig) -> tuple[str, str, list[str]]:
    """(served model name, greedy reply, progress notes) from the embedded server for serve."""
    notes: list[str] = []
    config = Config(serve=serve, model=ModelConfig(max_tokens=16, temperature=0.0))
    with open_model(config, notes.append) as client:
        name = client.info().model
        reply = client.complete(MESSAGES)
    return name, reply.text, notes


def test_an_adapter_is_applied_and_a_server_with_another_is_never_reused(
    base_model: Path, tmp_path: Path
) -> None:
    base_name, base_reply, _ = _ask(ServeConfig(ctx_size=CTX, no_lora=True))
    assert base_name == BASE_NAME and base_reply.strip()

    noisy = make_adapter(default_adapter_dir(), base_model, layers=range(18), rank=8, scale=0.5, seed=3)
    noisy_name, noisy_reply, notes = _ask(ServeConfig(ctx_size=CTX))
    assert noisy_name.startswith(f"{BASE_NAME}+lora-"), "the default adapter is served when present"
    assert any(
        n.startswith(f"serving the default adapter {(noisy / 'adapter.gguf').resolve()}") for n in notes
    ), notes
    assert noisy_reply != base_reply, "a big random adapter must change the greedy reply"

    zero = make_adapter(tmp_path / "zero", base_model, layers=range(18), rank=8, scale=0.0)
    zero_name, zero_reply, notes = _ask(ServeConfig(ctx_size=CTX, lora=str(zero)))
    assert zero_name.startswith(f"{BASE_NAME}+lora-") and zero_name != noisy_name
    assert not any(n.startswith("using the embedded model server") for n in notes), "not the noisy server"
    assert zero_reply == base_reply, "an all-zero adapter leaves the reply as it was"

    again_name, again_reply, notes = _ask(ServeConfig(ctx_size=CTX, no_lora=True))
    assert (again_name, again_reply) == (BASE_NAME, base_reply)


def test_doctor_names_the_adapter_in_use(
    base_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_adapter(tmp_path / "run", base_model, layers=range(2), rank=4, scale=0.01)
    assert run_cli(["-c", f"serve.lora={folder}", "-c", f"serve.ctx_size={CTX}", "doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"].startswith(f"{BASE_NAME}+lora-")
    assert report["adapter"]["gguf"] == str((folder / "adapter.gguf").resolve())
    assert (report["adapter"]["steps"], report["adapter"]["data_sha256"]) == (12, "d" * 64)
    assert run_cli(["-c", f"serve.lora={folder}", "-c", f"serve.ctx_size={CTX}", "doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        f"adapter         {(folder / 'adapter.gguf').resolve()} (12 steps, data sha256 dddddddddddd)" in lines
    )


def test_the_shipped_adapter_serves_the_embedded_model_when_the_user_has_none(
    base_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No server starts here: the command line `lingcode serve` would run, for the embedded model."""
    shipped = (SHIPPED_ADAPTER / "adapter.gguf").resolve()

    def served(*args: str) -> tuple[str | None, str]:
        assert run_cli(["serve", *args, "--print-command"]) == 0
        captured = capsys.readouterr()
        argv = shlex.split(captured.out)
        return (argv[argv.index("--lora_path") + 1] if "--lora_path" in argv else None), captured.err

    path, err = served()
    assert path == str(shipped) and "serving the adapter that ships with lingcode" in err
    assert served("--no-lora")[0] is None
    assert served("--model", str(base_model))[0] is None, "a model the user names gets no shipped adapter"
    mine = make_adapter(default_adapter_dir(), base_model, layers=range(2), rank=4, scale=0.01)
    path, err = served()
    assert path == str((mine / "adapter.gguf").resolve()) and "serving the default adapter" in err
