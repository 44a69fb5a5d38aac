"""Serving an adapter without a model running: the llama.cpp and vLLM command lines and configuration built
for `--lora`, the default adapter (picked when present and fit, skipped with a note when not, `--no-lora`),
and what doctor prints about the adapter. The real server with a real adapter is in
test_lora_integration.py."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.config import ServeConfig
from lingcode.model.doctor import DoctorReport
from lingcode.model.embedded import llama_command
from lingcode.model.vllm import max_lora_rank, vllm_command
from lingcode.tune.adapter_check import check_for_llama, check_for_vllm, default_adapter_dir
from tests.model.test_lora_check import make_adapter, make_base

pytest.importorskip("gguf", reason="the gguf package comes with the tune extra")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return make_base(tmp_path / "base.gguf")


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_DATA_HOME for the test, so the default adapter is looked for in a fresh place."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def _print_command(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = run_cli(["serve", *args, "--print-command"])
    captured = capsys.readouterr()
    return code, shlex.split(captured.out), captured.err


def test_llama_command_applies_the_adapter_and_names_it(tmp_path: Path, base: Path) -> None:
    adapter = check_for_llama(make_adapter(tmp_path / "run", base), base)
    command = llama_command(ServeConfig(model_path=str(base)), base, 8081, adapter)
    assert command[command.index("--lora_path") + 1] == adapter.gguf
    assert command[command.index("--model_alias") + 1] == f"base+lora-{adapter.sha256[:12]}"
    assert "--lora_path" not in llama_command(ServeConfig(model_path=str(base)), base, 8081)


def test_serve_lora_prints_the_command_with_the_adapter(
    tmp_path: Path, base: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_adapter(tmp_path / "run", base)
    code, argv, err = _print_command(["--model", str(base), "--lora", str(folder)], capsys)
    assert code == 0, err
    assert argv[argv.index("--lora_path") + 1] == str((folder / "adapter.gguf").resolve())
    assert argv[argv.index("--model_alias") + 1].startswith("base+lora-")


def test_serve_lora_from_the_user_file(
    tmp_path: Path, base: Path, isolated_home: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_adapter(tmp_path / "run", base)
    user_file = isolated_home / ".config" / "lingcode" / "config.toml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text(f'[serve]\nmodel_path = "{base}"\nlora = "{folder}"\n')
    code, argv, err = _print_command([], capsys)
    assert code == 0, err
    assert "--lora_path" in argv


def test_the_default_adapter_is_served_when_present_and_said_so(
    tmp_path: Path, base: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, argv, _ = _print_command(["--model", str(base)], capsys)
    assert code == 0 and "--lora_path" not in argv, "no default adapter: the base model alone"
    make_adapter(default_adapter_dir(), base)
    code, argv, err = _print_command(["--model", str(base)], capsys)
    assert code == 0 and argv[argv.index("--lora_path") + 1].startswith(str(data_home))
    assert "lingcode: serving the default adapter " in err and "(12 steps, data sha256 dddddddddddd)" in err
    assert "--no-lora serves the base model" in err
    code, argv, err = _print_command(["--model", str(base), "--no-lora"], capsys)
    assert code == 0 and "--lora_path" not in argv and "default adapter" not in err


def test_a_default_adapter_that_is_not_fit_is_skipped_with_a_note(
    tmp_path: Path, base: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_adapter(default_adapter_dir(), base, manifest={"complete": False})
    code, argv, err = _print_command(["--model", str(base)], capsys)
    assert code == 0 and "--lora_path" not in argv
    assert err.strip().splitlines() == [
        f"lingcode: not serving the default adapter: {default_adapter_dir()} is incomplete "
        "(manifest.json does not say complete: true): its training run has not finished or was "
        "interrupted, and a partly written adapter is never served"
    ]


def test_an_explicit_adapter_that_is_not_fit_is_an_error(
    tmp_path: Path, base: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_adapter(tmp_path / "run", base)
    (folder / "adapter.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    code, argv, err = _print_command(["--model", str(base), "--lora", str(folder)], capsys)
    assert (code, argv) == (2, [])
    assert err.strip().splitlines() == [
        f"lingcode: {(folder / 'adapter.gguf').resolve()} is not a valid GGUF file: "
        "it ends at byte 8 inside its header (truncated)"
    ]


def test_lora_and_no_lora_together_are_refused(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _print_command(["--lora", str(base), "--no-lora"], capsys)
    assert code == 2 and err.strip() == "lingcode: --lora and --no-lora contradict each other; give one"


def test_vllm_serves_the_peft_adapter_under_its_name(
    tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_adapter(tmp_path / "run", base, rank=4)
    args = ["--engine", "vllm", "--model", "Qwen/Qwen2.5-Coder-7B-Instruct", "--lora", str(folder)]
    code, argv, err = _print_command(args, capsys)
    assert code == 0, err
    assert argv[:3] == ["vllm", "serve", "Qwen/Qwen2.5-Coder-7B-Instruct"] and "--enable-lora" in argv
    assert argv[argv.index("--lora-modules") + 1] == f"lingcode-lora={(folder / 'peft').resolve()}"
    assert argv[argv.index("--max-lora-rank") + 1] == "8"
    assert "requests get it as model 'lingcode-lora' (-c model.model=lingcode-lora)" in err
    renamed = vllm_command(ServeConfig(lora_name="fixer"), 8000, check_for_vllm(folder))
    assert renamed[renamed.index("--lora-modules") + 1].startswith("fixer=")


def test_vllm_takes_no_default_adapter(
    base: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_adapter(default_adapter_dir(), base)
    code, argv, err = _print_command(["--engine", "vllm"], capsys)
    assert code == 0 and "--enable-lora" not in argv and err == ""


def test_vllm_refuses_an_adapter_file(tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_adapter(tmp_path / "run", base)
    shutil.rmtree(folder / "peft")
    code, argv, err = _print_command(["--engine", "vllm", "--lora", str(folder)], capsys)
    assert code == 2 and argv == [] and "lacks peft, which its manifest.json names" in err


@pytest.mark.parametrize(("rank", "allowed"), [(1, 1), (4, 8), (8, 8), (20, 32), (300, 320)])
def test_max_lora_rank_is_one_vllm_accepts(rank: int, allowed: int) -> None:
    assert max_lora_rank(rank) == allowed


def _report(adapter: dict[str, object] | None, known: bool) -> DoctorReport:
    return DoctorReport(
        "http://127.0.0.1:1/v1", "llama-cpp-python", "gemma-3-270m-q4_k_m+lora-0123456789ab", 2048,
        True, True, 0.1, 50.0, 10, 0.2, "stop", adapter, known,
    )  # fmt: skip


def test_doctor_names_the_adapter(tmp_path: Path, base: Path) -> None:
    adapter = check_for_llama(make_adapter(tmp_path / "run", base), base).as_json()
    lines = _report(adapter, True).lines()
    assert f"adapter         {adapter['gguf']} (12 steps, data sha256 dddddddddddd)" in lines
    assert "adapter         none (the base model alone)" in _report(None, True).lines()
    assert not any(line.startswith("adapter") for line in _report(None, False).lines())
    assert _report(adapter, True).as_json()["adapter"] == adapter
