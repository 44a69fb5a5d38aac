"""`lingcode apply` and `lingcode grammar` through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import GitRepoFactory

LINGCODE = str(Path(sys.executable).with_name("lingcode"))
GOOD = "a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
BAD = "a.py\n<<<<<<< SEARCH\nx = 9\n=======\nx = 2\n>>>>>>> REPLACE\n"


def lingcode(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINGCODE, *args], input=stdin, text=True, capture_output=True, timeout=60)


def test_apply_exit_codes_and_output(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    dry = lingcode("apply", "--root", str(root), "--dry-run", stdin=GOOD)
    assert dry.returncode == 0 and "+x = 2" in dry.stdout and "would change: a.py" in dry.stderr
    assert (root / "a.py").read_text() == "x = 1\n"
    bad = lingcode("apply", "--root", str(root), stdin=BAD)
    assert bad.returncode == 4 and "not in the file" in bad.stderr and "Traceback" not in bad.stderr
    done = lingcode("apply", "--root", str(root), "--json", stdin=GOOD)
    assert done.returncode == 0
    assert json.loads(done.stdout) == [{"path": "a.py", "status": "modified", "reason": "", "new_path": None}]
    assert (root / "a.py").read_text() == "x = 2\n"


def test_apply_broken_reply_and_usage_errors(make_repo: GitRepoFactory, tmp_path: Path) -> None:
    root = make_repo({"a.py": "x = 1\n"})
    broken = lingcode("apply", "--root", str(root), stdin="a.py\n<<<<<<< SEARCH\nx = 1\n")
    assert broken.returncode == 4 and "=======" in broken.stderr
    assert lingcode("apply", "--root", str(tmp_path / "missing"), stdin=GOOD).returncode == 2
    assert lingcode("apply", "--bogus").returncode == 2


def test_grammar_command_prints_per_request_grammar(make_repo: GitRepoFactory) -> None:
    root = make_repo({"a.py": 'x = "1"\n'})
    done = lingcode("grammar", "--root", str(root), "--format", "vllm", "a.py")
    assert done.returncode == 0
    assert '"a.py\\n<<<<<<< SEARCH\\n"' in done.stdout and '"x = \\"1\\"\\n"' in done.stdout
    assert lingcode("grammar", "--root", str(root), "nope.py").returncode == 2
