"""Run the real `lingcode` in tmux against a standalone scripted server: type a task, review, test, undo.

    python tests/ui/tmux_smoke.py            # prints each captured screen; exit 0 when every check passed

Needs `tmux` (CI: `apt-get install -y tmux`). The test suite runs it through tests/ui/test_tmux_smoke.py.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CALC = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
REPLY = (
    "<think>add subtracts; it should add.</think>\n"
    "The bug is in `add`: it subtracts instead of adding.\n\n"
    "calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n```\n"
)
WIDTH, HEIGHT = 100, 30


class SmokeFailure(AssertionError):
    """A screen did not show what it should have; carries the screen."""


def make_repo(root: Path) -> None:
    """An examples-like repository: one module with a bug and the test that shows it."""
    root.mkdir(parents=True)
    (root / "calc.py").write_text(CALC, encoding="utf-8")
    (root / "test_calc.py").write_text(TEST, encoding="utf-8")
    env = {**os.environ, "GIT_AUTHOR_NAME": "smoke", "GIT_AUTHOR_EMAIL": "smoke@lingcode.invalid"}
    env |= {"GIT_COMMITTER_NAME": "smoke", "GIT_COMMITTER_EMAIL": "smoke@lingcode.invalid"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)


@contextmanager
def scripted_server(script: Path) -> Iterator[str]:
    """Start `python -m lingcode.model.scripted` and yield its base URL (its first line of output)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lingcode.model.scripted", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise SmokeFailure(f"scripted server printed {url!r} instead of its URL")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


class Tmux:
    """One tmux server of our own (its own socket), with one session running a command."""

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.name, *args], capture_output=True, text=True, check=False)
        return result.stdout

    def start(self, command: str, cwd: Path) -> None:
        self.run(
            "new-session", "-d", "-s", "smoke", "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd), command
        )

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", "smoke", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "smoke", "-l", text)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "smoke")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Poll the screen until it shows `text`; raise with the last screen if it never does."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise SmokeFailure(f"never saw {text!r}; the screen was:\n{screen}")

    def alive(self) -> bool:
        return bool(self.run("list-sessions").strip())

    def kill(self) -> None:
        self.run("kill-server")


def run_smoke(workdir: Path, show: bool = False) -> dict[str, str]:
    """The whole session; returns the screens captured at each step (and prints them with `show`)."""
    repo = workdir / "calc-project"
    make_repo(repo)
    script = workdir / "script.json"
    script.write_text(json.dumps([REPLY]), encoding="utf-8")
    screens: dict[str, str] = {}
    tmux = Tmux(f"lingcode-smoke-{os.getpid()}")
    with scripted_server(script) as url:
        env = {
            "LINGCODE_MODEL_BASE_URL": url,
            "LINGCODE_LOOP_AUTO_APPLY": "false",
            "LINGCODE_LOOP_TEST_CMD": f"{sys.executable} -m pytest -q -p no:cacheprovider",
            "HOME": os.environ.get("HOME", str(workdir)),
            "XDG_CONFIG_HOME": str(workdir / "config"),
            "XDG_CACHE_HOME": str(workdir / "cache"),
            "TERM": "xterm-256color",
        }
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # the exit status is printed after the app ends, so the screen shows that Ctrl+C twice quit cleanly
        tmux.start(
            f"env {exports} {shlex.quote(sys.executable)} -m lingcode; echo LINGCODE-EXIT=$?; sleep 60", repo
        )
        try:
            screens["open"] = tmux.wait_for("Ready:", 60)
            tmux.type("fix the failing test")
            tmux.send("Enter")
            screens["review"] = tmux.wait_for("Review edits", 60)
            if "return a + b" not in screens["review"]:
                raise SmokeFailure(f"the review shows no diff:\n{screens['review']}")
            tmux.send("a")
            screens["tested"] = tmux.wait_for("Tests pass", 60)
            if "return a + b" not in (repo / "calc.py").read_text(encoding="utf-8"):
                raise SmokeFailure("accepting the edit did not change calc.py")
            tmux.type("/undo")
            tmux.send("Enter")
            screens["undone"] = tmux.wait_for("as they were before", 30)
            if (repo / "calc.py").read_text(encoding="utf-8") != CALC:
                raise SmokeFailure("/undo did not restore calc.py")
            tmux.send("C-c")
            tmux.send("C-c")
            screens["quit"] = tmux.wait_for("LINGCODE-EXIT=0", 15)
        finally:
            if show:
                for step, screen in screens.items():
                    print(f"===== {step}\n{screen}")
            tmux.kill()
    return screens


def main() -> int:
    """Run the smoke test in a temporary directory; 0 when it passed."""
    if shutil.which("tmux") is None:
        print("tmux is not installed (apt-get install -y tmux)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="lingcode-smoke-") as tmp:
        try:
            run_smoke(Path(tmp), show=True)
        except SmokeFailure as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    print("tmux smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
