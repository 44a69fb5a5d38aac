"""Deadlines and cancelling for HTTP requests that may block in a socket read.

httpx fixes a response's read timeout when the body starts, but a reply needs two: a long one until the first
token (a CPU reads a long prompt slowly) and a short one between chunks. A cancel must also end a read that
is blocked on a silent server. So a watcher thread watches the clock and the cancel events and, when one
fires, shuts that request's socket down: the blocked read wakes at once, and the reader asks `reason` what
happened.

One watcher thread serves every request of the process: starting a thread per request cost more wall time
than the rest of a short request on a busy machine (benchmarks/client_overhead.py). The watcher sleeps until
the nearest deadline and is only woken when a deadline comes nearer than that; a reader pushing its idle
deadline on per chunk just stores a number.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from typing import Literal

import httpx

Reason = Literal["cancelled", "first_token", "idle"]

_CANCEL_POLL_S = 0.05
"""How often a cancel event is looked at: the longest a cancel waits to take effect."""


class Watchdog:
    """Watches one request; use as a context manager around it and call `attach` once the response starts."""

    def __init__(self, cancel: threading.Event | None, first_token_s: float, idle_s: float | None) -> None:
        self.reason: Reason | None = None
        """Why the watchdog cut the request off, or None while it has not."""
        self.cancel_event = cancel
        """The caller's cancel event, if any."""
        self._idle_s = idle_s
        self._deadline = time.monotonic() + first_token_s
        self._got_content = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._finished = False

    def __enter__(self) -> Watchdog:
        _watcher().add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._finished = True
        _watcher().remove(self)

    def attach(self, response: httpx.Response) -> None:
        """Remember the response's socket so that it can be shut down."""
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock if isinstance(sock, socket.socket) else None
            if self.reason is not None:
                self._shutdown()

    def saw_content(self) -> None:
        """Reply text arrived: from now on only the idle deadline applies, counted from now."""
        if self._idle_s is not None:
            self._deadline = time.monotonic() + self._idle_s
        if not self._got_content:
            self._got_content = True
            # the deadline may have come nearer (idle < first token); later chunks only push it further
            # away, which the watcher finds when it wakes at the old one
            _watcher().look_by(self._deadline)

    def cancelled(self) -> bool:
        """Whether the caller asked to stop."""
        return self.cancel_event is not None and self.cancel_event.is_set()

    def check(self, now: float) -> float | None:
        """Fire if a deadline passed or the caller cancelled; else when to look again (None: never)."""
        if self._finished:
            return None
        if self.cancelled():
            self._fire("cancelled")
            return None
        deadline = self._deadline
        if now >= deadline:
            self._fire("idle" if self._got_content else "first_token")
            return None
        return deadline if self.cancel_event is None else min(deadline, now + _CANCEL_POLL_S)

    def next_look(self) -> float:
        """The latest time the watcher may next look at this request."""
        if self.cancel_event is None:
            return self._deadline
        return min(self._deadline, time.monotonic() + _CANCEL_POLL_S)

    def _fire(self, reason: Reason) -> None:
        with self._lock:
            self.reason = reason
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            # an OSError means it is closed already: the read it would wake has ended anyway
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)


class _Watcher:
    """The one thread that looks at every watched request when its nearest deadline comes."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._dogs: set[Watchdog] = set()
        self._wake_at: float | None = None
        """When the thread looks next; None while it waits to be woken."""
        self._thread: threading.Thread | None = None

    def add(self, dog: Watchdog) -> None:
        """Start watching dog."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="model-watchdog", daemon=True)
                self._thread.start()
            self._dogs.add(dog)
            self._look_by(dog.next_look())

    def remove(self, dog: Watchdog) -> None:
        """Stop watching dog (the thread need not wake for it: it drops finished ones when it next looks)."""
        with self._cond:
            self._dogs.discard(dog)

    def look_by(self, when: float) -> None:
        """Make sure the thread looks again no later than when."""
        with self._cond:
            self._look_by(when)

    def _look_by(self, when: float) -> None:
        if self._wake_at is None or when < self._wake_at:
            self._wake_at = when
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                wake_at: float | None = None
                for dog in list(self._dogs):
                    try:
                        at = dog.check(now)
                    except Exception:  # one broken request must not stop the watching of the others
                        at = None
                    if at is None:
                        self._dogs.discard(dog)
                    elif wake_at is None or at < wake_at:
                        wake_at = at
                self._wake_at = wake_at
                self._cond.wait(None if wake_at is None else max(0.0, wake_at - now))


_WATCHER = _Watcher()


def _watcher() -> _Watcher:
    return _WATCHER


def _after_fork() -> None:
    # a forked child has no watcher thread, and its lock may have been held by one
    global _WATCHER
    _WATCHER = _Watcher()


os.register_at_fork(after_in_child=_after_fork)
