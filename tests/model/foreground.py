"""Run the foreground server loop of `lingcode serve` with the scripted server as the child (for tests).

Usage: python foreground.py SCRIPT.json; prints the base URL, then the child's pid, then serves until SIGTERM.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lingcode.model import process, serve


def main() -> int:
    """Start the scripted server on a free port as the child and run the foreground loop on it."""
    port = process.free_port()
    command = [sys.executable, "-m", "lingcode.model.scripted", "--script", sys.argv[1], "--port", str(port)]
    log = Path(sys.argv[1]).with_suffix(".log")
    child = process.spawn(command, log)

    def out(line: str) -> None:
        print(line, flush=True)
        print(child.pid, flush=True)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return serve.run_foreground(child, f"http://127.0.0.1:{port}/v1", 30.0, log, say, out)


if __name__ == "__main__":
    sys.exit(main())
