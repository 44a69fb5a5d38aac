"""Bad command-line input, from outside: each case ends with one clear line on stderr and its documented exit
code, never a traceback, and writes nothing. The README's exit-code table documents every code used here.

The cases cover unknown flags, bad `-c` overrides, flags a command would silently ignore, a non-git
directory, a repository with no commits, and roots and paths with spaces and non-ASCII names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory, git
from tests.loop.helpers import FILES, FIX, QUICK

DEAD = "http://127.0.0.1:9/v1"  # nothing listens there: a case that reached the model would fail differently
ODD = "sp ace ü"  # a root with a space and a non-ASCII letter
RUN = ["run", "x", "--model-url", DEAD]

# (id, where, argv, exit code, words the one line must hold); where: odd | nogit | empty (no commits)
CASES: list[tuple[str, str, list[str], int, str]] = [
    ("unknown-flag", "odd", ["--bogus"], 2, "No such option '--bogus'"),
    ("unknown-run-flag", "odd", ["run", "--bogus", "x"], 2, "No such option '--bogus'"),
    ("c-unknown-section", "odd", ["-c", "nosuch.key=1", "map"], 2, "nosuch.key"),
    ("c-bad-value", "odd", ["-c", "model.temperature=abc", "map"], 2, "model.temperature"),
    ("c-no-equals", "odd", ["-c", "garbage", "map"], 2, "expected key.path=value"),
    (
        "c-out-of-range",
        "odd",
        ["-c", "loop.max_iterations=-3", *RUN],
        2,
        "max_iterations",
    ),
    ("run-no-task", "odd", ["run"], 2, "Missing argument 'TASK'"),
    ("run-empty-task", "odd", ["run", " ", "--model-url", DEAD], 2, "the task is empty"),
    (
        "run-empty-test-cmd",
        "odd",
        [*RUN, "--test-cmd", ""],
        2,
        "--test-cmd is empty",
    ),
    (
        "run-no-test-and-cmd",
        "odd",
        ["run", "x", "--no-test", "--test-cmd", "true"],
        2,
        "cannot be used together",
    ),
    (
        "url-not-http",
        "odd",
        ["run", "x", "--model-url", "ftp://host/v1"],
        2,
        "expected an http:// or https://",
    ),
    (
        "doctor-url-not-a-url",
        "odd",
        ["doctor", "--model-url", "notaurl"],
        2,
        "expected an http:// or https://",
    ),
    ("model-flag-ignored", "odd", ["--model-url", DEAD, "map"], 2, "does not apply to `lingcode map`"),
    ("resume-ignored", "odd", ["--resume", "map"], 2, "does not apply to `lingcode map`"),
    ("root-missing", "odd", ["--root", "/nonexistent dïr", "map"], 2, "not a directory"),
    (
        "run-root-missing",
        "odd",
        [*RUN, "--root", "/nonexistent dïr"],
        2,
        "not a directory",
    ),
    ("review-missing-path", "odd", ["review", "nö such.py", "--model-url", DEAD], 2, "not a file inside"),
    ("grammar-missing-path", "odd", ["grammar", "nö such.py"], 2, "nö such.py"),
    ("export-unwritable", "odd", ["export-sft", "--out", "/proc/nö/x.jsonl"], 1, "cannot write"),
    ("batch-missing-file", "odd", ["batch", "nö such.jsonl", "--model-url", DEAD], 2, "does not exist"),
    ("serve-bad-engine", "odd", ["serve", "--engine", "nope"], 2, "'nope' is not one of"),
    ("nogit-run", "nogit", RUN, 2, "not in a git repository"),
    ("nogit-review", "nogit", ["review", "--staged", "--model-url", DEAD], 2, "not in a git repository"),
    ("nogit-undo", "nogit", ["undo"], 2, "not in a git repository"),
    ("nogit-hook", "nogit", ["hook", "install"], 2, "not a git repository"),
    ("nogit-tune-data", "nogit", ["tune", "data", "--out", "out"], 2, "not a git repository"),
    ("nogit-session", "nogit", ["--model-url", DEAD], 2, "needs a terminal"),
    ("empty-review", "empty", ["review", "--staged", "--model-url", DEAD], 0, "nothing is staged"),
    ("empty-undo", "empty", ["undo"], 0, "nothing to undo"),
    ("empty-tune-data", "empty", ["tune", "data", "--out", "out"], 2, "no function"),
]


def _where(kind: str, tmp_path: Path) -> Path:
    folder = tmp_path / (ODD if kind == "odd" else kind)
    folder.mkdir()
    if kind != "nogit":
        git(folder, "init", "-q")
    if kind == "odd":
        (folder / "fïle name.py").write_text("x = 1\n")
        git(folder, "add", "-A")
        git(folder, "commit", "-q", "-m", "base")
    return folder


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("where", "argv", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_gets_one_line_and_its_exit_code(
    where: str,
    argv: list[str],
    code: int,
    words: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    folder = _where(where, tmp_path)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("CI", "true")
    before = _tree(folder)
    assert run_cli(argv) == code
    out, err = capfd.readouterr()
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], out + err
    assert code == 0 or not out  # a failure says why on stderr and prints no result
    assert "Traceback" not in err
    assert _tree(folder) == before  # nothing written, not even a partial file


def test_a_run_in_a_root_with_spaces_and_no_commits_fixes_and_undoes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / ODD
    root.mkdir()
    git(root, "init", "-q")  # no commit yet: the checkpoint has no HEAD to start from
    for name, text in FILES.items():
        (root / name).write_text(str(text))
    monkeypatch.chdir(root)
    with ScriptedServer([FIX]) as server:
        args = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", "fix average",
                "--model-url", server.base_url, "--test-cmd", QUICK]  # fmt: skip
        assert run_cli(args) == 0
    assert "len(values)\n" in (root / "calc.py").read_text()
    assert run_cli(["undo"]) == 0
    assert (root / "calc.py").read_text() == FILES["calc.py"]
    status = git(root, "status", "--porcelain")
    assert sorted(line[3:] for line in status.splitlines()) == sorted(FILES)  # all still untracked


def test_a_repository_path_with_spaces_and_non_ascii_reaches_the_context(
    make_repo: GitRepoFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    root = make_repo({"dïr with space/fïle name.py": "def wanted_function():\n    return 1\n"})
    assert run_cli(["context", "wanted_function", "--root", str(root), "--json", "--no-text"]) == 0
    shown = [entry["path"] for entry in json.loads(capfd.readouterr().out)["files"]]
    assert shown == ["dïr with space/fïle name.py"]
