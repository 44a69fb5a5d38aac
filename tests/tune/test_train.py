"""`lingcode tune` on a tiny Gemma 3: a complete output or none, the manifest serve reads, an adapter GGUF
llama.cpp would accept, deterministic from the seed, and bad input as one line with a documented exit code."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.errors import ExitCode
from tests.tune.conftest import needs_tune
from tests.tune.sample import make_repo

pytestmark = needs_tune
MANIFEST_KEYS = {
    "kind", "complete", "format_version", "base_model", "data_sha256", "seed", "steps", "lora", "files",
    "train", "lingcode_version",
}  # fmt: skip


def tune(repo: Path, base: Path, out: Path, *extra: str) -> int:
    """Run `lingcode tune` in-process with small settings."""
    args = ["tune", "--from-repo", str(repo), "--base", str(base), "--out", str(out), "--seq-len", "1024"]
    return run_cli([*args, "--eval-every", "3", "--threads", "1", *extra])


def adapter_tensors(path: Path) -> dict[str, tuple[tuple[int, ...], bytes]]:
    """Each tensor of an adapter GGUF: its numpy shape (torch order) and bytes."""
    from gguf import GGUFReader

    reader = GGUFReader(path)
    return {t.name: (tuple(int(d) for d in reversed(t.shape)), t.data.tobytes()) for t in reader.tensors}


def test_writes_a_complete_output(
    sample_repo: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "adapter"
    assert tune(sample_repo, tiny_model, out, "--steps", "4", "--rank", "4") == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest) == MANIFEST_KEYS
    assert manifest["kind"] == "lingcode-lora" and manifest["complete"] is True
    assert manifest["base_model"]["architecture"] == "gemma3" and manifest["steps"] == 4
    assert manifest["lora"] == {"r": 4, "alpha": 8.0, "targets": manifest["lora"]["targets"]}
    assert manifest["data_sha256"] == json.loads((out / "data/manifest.json").read_text())["data_sha256"]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and all(r["tokens_per_s"] > 0 for r in log)
    assert "valid_loss" in log[2] and manifest["train"]["valid_loss"] == log[3]["valid_loss"]
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    peft = json.loads((out / "peft/adapter_config.json").read_text(encoding="utf-8"))
    assert peft["r"] == 4 and (out / "peft/adapter_model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter", "repo"]  # no staging left
    err = capsys.readouterr().err
    assert "step 4/4" in err and f"wrote {out}" in err


def test_adapter_gguf_is_what_llama_cpp_loads(sample_repo: Path, tiny_model: Path, tmp_path: Path) -> None:
    from gguf import GGUFReader

    out = tmp_path / "adapter"
    assert tune(sample_repo, tiny_model, out, "--steps", "2", "--rank", "4") == 0
    reader = GGUFReader(out / "adapter.gguf")
    fields = {name: field.contents() for name, field in reader.fields.items() if not name.startswith("GGUF.")}
    assert fields["general.type"] == "adapter" and fields["adapter.type"] == "lora"
    assert fields["general.architecture"] == "gemma3" and fields["adapter.lora.alpha"] == 8.0
    tensors = adapter_tensors(out / "adapter.gguf")
    assert len(tensors) == 2 * 2 * 7  # two layers, seven projections, a and b each
    # the tiny model: hidden 64, 2 heads of 32 (q out 64), 1 kv head (k/v out 32), intermediate 128
    assert tensors["blk.0.attn_q.weight.lora_a"][0] == (4, 64)
    assert tensors["blk.0.attn_q.weight.lora_b"][0] == (64, 4)
    assert tensors["blk.1.attn_k.weight.lora_b"][0] == (32, 4)
    assert tensors["blk.1.ffn_down.weight.lora_a"][0] == (4, 128)
    assert tensors["blk.1.attn_output.weight.lora_b"][0] == (64, 4)


def test_same_seed_same_adapter_other_seed_another(
    sample_repo: Path, tiny_model: Path, tmp_path: Path
) -> None:
    runs = {}
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert tune(sample_repo, tiny_model, tmp_path / name, "--steps", "3", "--seed", seed) == 0
        runs[name] = (tmp_path / name / "adapter.gguf").read_bytes()
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_rerun_replaces_its_own_output_whole(sample_repo: Path, tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    assert tune(sample_repo, tiny_model, out, "--steps", "2") == 0
    assert tune(sample_repo, tiny_model, out, "--steps", "3") == 0
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["steps"] == 3


def test_exclude_keeps_files_out_of_the_data(tiny_model: Path, tmp_path: Path) -> None:
    from tests.tune.sample import SOURCE

    repo = make_repo(tmp_path / "repo", {"src/a.py": SOURCE, "src/b.py": SOURCE, "examples/c.py": SOURCE})
    out = tmp_path / "adapter"
    assert tune(repo, tiny_model, out, "--steps", "1", "--exclude", "examples", "--valid-fraction", "0") == 0
    lines = (out / "data/train.jsonl").read_text(encoding="utf-8").splitlines()
    paths = {json.loads(line)["path"] for line in lines}
    assert paths == {"src/a.py", "src/b.py"}


@pytest.mark.parametrize(
    ("make_base", "message"),
    [
        (lambda d: d / "nowhere", "unknown base model"),
        (lambda d: _write(d / "x.gguf", b"PK\x03\x04 not a gguf"), "is not a GGUF file"),
        (lambda d: _truncated_gguf(d / "t.gguf"), "truncated"),
        (lambda d: _write(d / "hf/config.json", b'{"model_type": "bert"}').parent, "not supported"),
    ],
    ids=["missing", "wrong-magic", "truncated", "unsupported-architecture"],
)
def test_bad_base_model(
    make_base: object, message: str, sample_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_base(tmp_path)  # type: ignore[operator]
    assert tune(sample_repo, base, tmp_path / "out", "--steps", "1") == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists() and not (tmp_path / ".out.partial").exists()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _truncated_gguf(path: Path) -> Path:
    """A real gemma3 GGUF of one 64 KiB tensor, cut short as an interrupted download would be."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "gemma3")
    writer.add_tensor("token_embd.weight", np.ones((128, 128), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])
    return path


def test_no_training_data(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo", {"notes.txt": "nothing to parse\n"})
    assert tune(repo, tiny_model, tmp_path / "out", "--steps", "1") == ExitCode.USAGE
    assert "no function" in capsys.readouterr().err
    assert tune(repo, tiny_model, tmp_path / "out", "--steps", "1", "--source", "runs") == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no accepted runs" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


def test_every_sample_too_long(
    sample_repo: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["tune", "--from-repo", str(sample_repo), "--base", str(tiny_model), "--out", str(tmp_path / "o")]
    assert run_cli([*args, "--steps", "1", "--seq-len", "16"]) == ExitCode.USAGE
    assert "no training sample fits --seq-len 16" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_foreign_output_folder_is_refused(
    sample_repo: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("keep\n", encoding="utf-8")
    assert tune(sample_repo, tiny_model, mine, "--steps", "1") == ExitCode.USAGE
    assert "is not a `lingcode tune` output" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]


def test_unwritable_output(
    sample_repo: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert tune(sample_repo, tiny_model, blocker / "sub", "--steps", "1") == ExitCode.FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lingcode: cannot write")


def test_a_full_disk_is_named() -> None:
    from lingcode.commands.tune import output_error

    error = output_error(OSError(errno.ENOSPC, "No space left on device"), Path("/o"))
    assert str(error) == "cannot write /o: no space left on the device" and error.exit_code == ExitCode.FAILED


def test_resume_with_nothing_to_resume(
    sample_repo: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tune(sample_repo, tiny_model, tmp_path / "o", "--steps", "1", "--resume") == ExitCode.USAGE
    assert "nothing to resume" in capsys.readouterr().err
    shutil.rmtree(tmp_path / ".o.partial", ignore_errors=True)


def test_steps_are_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["tune", "--from-repo", "."]) == ExitCode.USAGE
    assert "needs --steps" in capsys.readouterr().err


def test_without_the_tune_extra(sample_repo: Path, tmp_path: Path) -> None:
    hide_peft = "import sys; sys.modules['peft'] = None; from lingcode.cli import main; main()"
    args = ["tune", "--from-repo", str(sample_repo), "--out", str(tmp_path / "o"), "--steps", "1"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", hide_peft, *args], capture_output=True, text=True, env=env)
    assert done.returncode == ExitCode.USAGE
    assert (
        done.stderr
        == "lingcode: training needs peft, which is not installed; run: pip install 'lingcode[tune]'\n"
    )


def test_default_output_is_the_adapter_serve_picks(
    sample_repo: Path, tiny_model: Path, isolated_home: Path
) -> None:
    args = ["tune", "--from-repo", str(sample_repo), "--base", str(tiny_model), "--steps", "1"]
    assert run_cli([*args, "--threads", "1"]) == 0
    manifest = isolated_home / ".local/share/lingcode/adapters/default/manifest.json"
    assert json.loads(manifest.read_text(encoding="utf-8"))["complete"] is True
