"""`lingcode tune data`: a whole output, or one clear line and a documented exit code; never a partial one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.errors import ExitCode
from lingcode.loop.trajectory import RunLog
from tests.tune.sample import SOURCE, make_repo


def test_writes_both_splits_and_a_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo", {f"m{i}.py": SOURCE for i in range(10)})
    out = tmp_path / "data"
    assert run_cli(["tune", "data", "--from-repo", str(repo), "--out", str(out), "--seed", "4"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    lines = (out / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert manifest["seed"] == 4 and manifest["train_tasks"] == len(lines) > 0
    assert "training and" in capsys.readouterr().err
    # a second run replaces the first output whole
    assert run_cli(["tune", "data", "--from-repo", str(repo), "--out", str(out), "--seed", "5"]) == 0
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "repo"]  # no staging left behind


def test_several_repositories_each_give_tasks(tmp_path: Path) -> None:
    first = make_repo(tmp_path / "first", {f"m{i}.py": SOURCE for i in range(6)})
    second = make_repo(tmp_path / "second", {f"pkg/n{i}.py": SOURCE for i in range(6)})
    out = tmp_path / "data"
    args = ["tune", "data", "--from-repo", str(first), "--from-repo", str(second), "--out", str(out)]
    assert run_cli([*args, "--valid-fraction", "0.3"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    parts = manifest["repositories"]
    assert [part["source"] for part in parts] == [str(first.resolve()), str(second.resolve())]
    assert manifest["train_tasks"] == sum(part["train_tasks"] for part in parts) > 0
    assert all(part["train_tasks"] > 0 for part in parts)
    seen = set()
    for split in ("train", "valid"):
        for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            user, second_side = record["messages"][1]["content"], record["path"].startswith("pkg/")
            seen.add(second_side)
            # a task's prompt shows only its own repository's files, under their own paths
            assert ("pkg/n" in user) is second_side
            assert (re.search(r"(?<![/\w])m\d\.py", user) is not None) is not second_side
    assert seen == {False, True}


def test_a_bad_second_repository_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = make_repo(tmp_path / "first", {"m.py": SOURCE})
    plain = tmp_path / "plain"
    plain.mkdir()
    args = [
        "tune",
        "data",
        "--from-repo",
        str(first),
        "--from-repo",
        str(plain),
        "--out",
        str(tmp_path / "o"),
    ]
    assert run_cli(args) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a git repository" in err
    assert not (tmp_path / "o").exists()


def test_not_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run_cli(["tune", "data", "--from-repo", str(tmp_path), "--out", str(tmp_path / "o")])
        == ExitCode.USAGE
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a git repository" in err
    assert not (tmp_path / "o").exists()


def test_no_tasks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo", {"notes.txt": "nothing to parse\n"})
    assert run_cli(["tune", "data", "--from-repo", str(repo), "--out", str(tmp_path / "o")]) == ExitCode.USAGE
    assert "no function" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


def test_never_replaces_a_directory_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("keep\n", encoding="utf-8")
    assert run_cli(["tune", "data", "--from-repo", str(repo), "--out", str(mine)]) == ExitCode.USAGE
    assert "is not a `lingcode tune data` output" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]


def test_unwritable_output_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    code = run_cli(["tune", "data", "--from-repo", str(repo), "--out", str(blocker / "sub")])
    assert code == ExitCode.FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lingcode: cannot write")


def test_command_line_runs_without_torch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    probe = (
        "import sys; from lingcode.cli import run_cli; run_cli(sys.argv[1:]); print('torch' in sys.modules)"
    )
    args = ["tune", "data", "--from-repo", str(repo), "--out", str(tmp_path / "o")]
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _log_run(root: Path, status: str) -> None:
    log = RunLog(root)
    log.record("message", role="user", content="fix clamp")
    log.record("message", role="assistant", content="m.py\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n")
    log.record("end", status=status)
    log.close()


def test_accepted_runs_join_the_training_split(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"notes.txt": "no code\n"})
    _log_run(repo, "passed")
    _log_run(repo, "failed")
    out = tmp_path / "o"
    assert run_cli(["tune", "data", "--from-repo", str(repo), "--out", str(out), "--source", "runs"]) == 0
    lines = (out / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["messages"][0]["content"] for line in lines] == ["fix clamp"]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["accepted_runs"] == 1


def test_no_accepted_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo", {"m.py": SOURCE})
    _log_run(repo, "failed")
    code = run_cli(
        ["tune", "data", "--from-repo", str(repo), "--out", str(tmp_path / "o"), "--source", "runs"]
    )
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no accepted runs" in err
    assert not (tmp_path / "o").exists()
