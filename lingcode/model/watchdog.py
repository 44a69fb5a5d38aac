"""Deadlines and cancelling for one HTTP request that may block in a socket read.

httpx fixes a response's read timeout when the body starts, but a reply needs two: a long one until the first
token (a CPU reads a long prompt slowly) and a short one between chunks. A cancel must also end a read that
is blocked on a silent server. So a small thread watches the clock and the cancel event and, when one fires,
shuts the socket down: the blocked read wakes at once, and the reader asks `reason` what happened.
"""

from __future__ import annotations

import contextlib
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
        self._cancel = cancel
        self._first_token_s = first_token_s
        self._idle_s = idle_s
        self._deadline = time.monotonic() + first_token_s
        self._got_content = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._finished = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="model-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._finished = True
        self._wake.set()

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
            # the deadline may have come nearer (idle < first token): wake the watcher to look again; later
            # chunks only push it further away, which the watcher finds when it wakes at the old one
            self._wake.set()

    def cancelled(self) -> bool:
        """Whether the caller asked to stop."""
        return self._cancel is not None and self._cancel.is_set()

    def _watch(self) -> None:
        while True:
            wait = max(0.0, self._deadline - time.monotonic())
            if self._cancel is not None:
                wait = min(wait, _CANCEL_POLL_S)
            self._wake.wait(wait)
            self._wake.clear()
            if self._finished:
                return
            if self.cancelled():
                self._fire("cancelled")
                return
            if time.monotonic() >= self._deadline:
                self._fire("idle" if self._got_content else "first_token")
                return

    def _fire(self, reason: Reason) -> None:
        with self._lock:
            self.reason = reason
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            # an OSError means it is closed already: the read it would wake has ended anyway
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
