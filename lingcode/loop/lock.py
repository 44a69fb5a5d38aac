"""One lingcode run per repository at a time: a lock file under the git dir naming its holder."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from types import TracebackType

from lingcode.errors import UsageError
from lingcode.loop.gitcmd import git_dir
from lingcode.pids import pid_alive

__all__ = ["LockHeld", "RunLock"]


class LockHeld(UsageError):
    """Another lingcode run holds this repository's lock."""


class RunLock:
    """Context manager holding `GITDIR/lingcode/run.lock`; a lock left by a dead process is taken over."""

    def __init__(self, root: Path, what: str = "run") -> None:
        self.path = git_dir(root) / "lingcode" / "run.lock"
        self.root = root
        self.what = what
        self._held = False

    def acquire(self) -> None:
        """Take the lock or raise LockHeld naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if (holder is not None and pid_alive(holder)) or (holder is None and self._just_made()):
                    raise LockHeld(
                        f"another lingcode run (pid {holder}) is working in {self.root}; wait for it to end, "
                        f"or delete {self.path} if that process is gone"
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()  # stale: its holder died without cleaning up
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"pid": os.getpid(), "what": self.what, "started": time.time()}, out)
            self._held = True
            return
        raise LockHeld(f"could not take {self.path}; delete it if no lingcode run is active")

    def release(self) -> None:
        """Drop the lock if this object holds it."""
        if self._held:
            self._held = False
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _just_made(self) -> bool:
        # a holder may have created the file and not yet written its pid
        try:
            return time.time() - self.path.stat().st_mtime < 2.0
        except FileNotFoundError:
            return False

    def _holder(self) -> int | None:
        try:
            pid = json.loads(self.path.read_text(encoding="utf-8")).get("pid")
        except (OSError, ValueError, AttributeError):
            return None
        return pid if isinstance(pid, int) else None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
