"""The OpenAI-compatible chat client: one `complete` call, streamed or not, with timeouts, retries and cancel.

Failures end in one of two typed errors: `ModelUnavailable` (exit 3) when the server cannot be reached,
keeps failing, stalls or breaks a reply, and `ConfigError` (exit 2) when it refuses the configured URL, model
or key.
Connection errors, HTTP 429/5xx and streams that end before any reply text are retried with exponential
backoff (a Retry-After header wins); a stream that breaks after reply text arrived is never retried or used:
the caller may already have shown that text, and a second, different reply would be spliced onto it.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from lingcode.config import ModelConfig, is_loopback_url
from lingcode.errors import ConfigError, ModelUnavailable
from lingcode.model import info as server_info
from lingcode.model.reply import Constraint, Reply, ServerInfo, Usage
from lingcode.model.stream import stream_text
from lingcode.model.watchdog import Watchdog
from lingcode.model.wire import StreamState, WireError, error_message, parse_completion

T = TypeVar("T")

NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
"""Send small writes at once: httpx writes a request's headers and body separately, and with Nagle's
algorithm the body would wait for the server's delayed ACK (about 40 ms on Linux) on reused connections."""

_MAX_RETRY_DELAY_S = 30.0
"""The longest single wait between retries, even when a server's Retry-After asks for more."""


class _Retry(Exception):
    """A failure that another attempt may get past."""

    def __init__(self, message: str, retry_after: float | None = None, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.unreachable = unreachable


class _Cancelled(Exception):
    """The caller's cancel event was set while waiting to retry."""


class ModelClient:
    """A client for one OpenAI-compatible server; thread-safe, keeps connections alive between calls."""

    def __init__(
        self,
        config: ModelConfig,
        base_url: str,
        *,
        progress: Callable[[str], None] | None = None,
        info: ServerInfo | None = None,
        down_hint: Callable[[str], str] | None = None,
    ) -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self._progress = progress
        self._down_hint = down_hint
        """Called with base_url when the server is given up on: what to add to the message (may be empty)."""
        self._info = info
        self._info_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        read_s = max(config.first_token_timeout, config.idle_timeout)
        self._http = httpx.Client(
            timeout=httpx.Timeout(read_s, connect=config.connect_timeout),
            headers=headers,
            # a proxy from the environment must not capture a server on this machine
            trust_env=not is_loopback_url(self.base_url),
            transport=httpx.HTTPTransport(socket_options=NO_DELAY, verify=needs_tls(self.base_url)),
        )

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._http.close()

    def info(self) -> ServerInfo:
        """The server's model name, context window, grammar support and engine (asked once, then kept)."""
        with self._info_lock:
            if self._info is None:
                self._info = self._retrying(self._discover_once, None)
            return self._info

    def count_tokens(self, text: str) -> int | None:
        """Tokens the server's own tokenizer makes of text; None when the server cannot say."""
        return server_info.count_tokens(self._http, self.base_url, self.info(), text)

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        constraint: Constraint | None = None,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
        max_tokens: int | None = None,
        sampling: tuple[float, int | None] | None = None,
    ) -> Reply:
        """Send a chat and return the whole reply; stream it through on_delta when that is given.

        A set `cancel` event stops the call (promptly while streaming) and returns what arrived so far with
        finish_reason "cancelled". `sampling` (temperature, seed) replaces the configured ones for this call.
        """
        started = time.monotonic()
        body = self._body(messages, constraint, on_delta is not None, max_tokens, sampling)
        try:
            return self._retrying(lambda: self._attempt(body, on_delta, cancel, started), cancel)
        except _Cancelled:
            return _reply("", None, "cancelled", started, started, None, time.monotonic(), 0)

    def _body(
        self,
        messages: Sequence[Mapping[str, Any]],
        constraint: Constraint | None,
        stream: bool,
        max_tokens: int | None,
        sampling: tuple[float, int | None] | None = None,
    ) -> dict[str, Any]:
        info = self.info()
        temperature, seed = sampling or (self.config.temperature, self.config.seed)
        body: dict[str, Any] = {
            "model": info.model,
            "messages": [dict(m) for m in messages],
            "temperature": temperature,
            "max_tokens": max_tokens or self.config.max_tokens,
            "stream": stream,
        }
        if seed is not None:
            body["seed"] = seed
        if stream:
            body["stream_options"] = {"include_usage": True}
        if constraint is not None:
            body.update(server_info.constraint_fields(info, constraint))
        return body

    def _attempt(
        self,
        body: dict[str, Any],
        on_delta: Callable[[str], None] | None,
        cancel: threading.Event | None,
        t0: float,
    ) -> Reply:
        stream = bool(body["stream"])
        state = StreamState()
        attempt_start = time.monotonic()
        first_at: float | None = None
        with Watchdog(
            cancel, self.config.first_token_timeout, self.config.idle_timeout if stream else None
        ) as dog:
            try:
                url = self.base_url + "/chat/completions"
                with self._http.stream("POST", url, json=body, timeout=self._timeout(stream)) as response:
                    dog.attach(response)
                    self._check_status(response)
                    if not stream:
                        done = parse_completion(response.read())
                        end = time.monotonic()
                        return _reply(
                            done.text, done.usage, done.finish_reason, t0, attempt_start, None, end, 0
                        )
                    first_at = _read_stream(response, state, dog, on_delta)
            except httpx.TransportError as exc:
                self._raise_transport(exc, dog.reason, state)
            except WireError as exc:
                # said plainly, as for a dropped stream: text already shown to the user was not used
                dropped = (
                    f"; the partial reply ({len(state.text)} characters) was discarded" if state.parts else ""
                )
                raise ModelUnavailable(f"the model server at {self.base_url} {exc}{dropped}") from None
            if dog.reason is not None or dog.cancelled():
                self._raise_watchdog(dog.reason or "cancelled", state)
        end = time.monotonic()
        chunks = len(state.parts)
        if dog.cancelled():
            return _reply(state.text, state.usage, "cancelled", t0, attempt_start, first_at, end, chunks)
        if not state.complete:
            self._raise_broken(state, "the stream ended without finishing")
        return _reply(state.text, state.usage, state.finish_reason, t0, attempt_start, first_at, end, chunks)

    def _timeout(self, stream: bool) -> httpx.Timeout:
        # a non-streamed reply is silent until it is whole, so its one read gets the first-token deadline;
        # a stream's reads are cut short by the watchdog, so httpx's own limit is only a backstop
        config = self.config
        read_s = (
            max(config.first_token_timeout, config.idle_timeout) if stream else config.first_token_timeout
        )
        return httpx.Timeout(read_s, connect=config.connect_timeout)

    def _check_status(self, response: httpx.Response) -> None:
        code = response.status_code
        if code < 300:
            return
        response.read()
        try:
            detail = error_message(response.json())
        except ValueError:
            detail = " ".join(response.text.split())[:200] or response.reason_phrase
        where = f"the model server at {self.base_url}"
        if code == 429 or code >= 500:
            raise _Retry(f"{where} answered HTTP {code}: {detail}", _retry_after(response))
        if code in (401, 403):
            raise ConfigError(f"{where} refused the request (HTTP {code}: {detail}); check model.api_key")
        if code == 404:
            raise ConfigError(
                f"{where} answered HTTP 404 ({detail}); "
                "check model.base_url (it usually ends in /v1) and model.model"
            )
        raise ModelUnavailable(f"{where} rejected the request (HTTP {code}): {detail}")

    def _raise_transport(self, exc: httpx.TransportError, reason: str | None, state: StreamState) -> None:
        if reason is not None:
            return  # the watchdog cut the connection on purpose; the caller reports why
        where = f"the model server at {self.base_url}"
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            raise _Retry(f"cannot connect to {where}: {_plain(exc)}", unreachable=True) from None
        if isinstance(exc, httpx.TimeoutException):
            self._raise_watchdog("idle" if state.parts else "first_token", state)
        if state.parts:
            self._raise_broken(state, "the connection dropped")
        raise _Retry(f"{where} closed the connection before any reply text") from None

    def _raise_watchdog(self, reason: str, state: StreamState) -> None:
        if reason == "cancelled":
            return
        if reason == "first_token":
            raise ModelUnavailable(
                f"the model server at {self.base_url} sent no reply within "
                f"{self.config.first_token_timeout:g}s (model.first_token_timeout)"
            )
        self._raise_broken(state, f"it went silent for {self.config.idle_timeout:g}s (model.idle_timeout)")

    def _raise_broken(self, state: StreamState, why: str) -> None:
        if not state.parts:
            raise _Retry(f"the model server at {self.base_url} ended the stream before any reply text")
        raise ModelUnavailable(
            f"the model server at {self.base_url} broke off its reply after {len(state.text)} characters: "
            f"{why}; the partial reply was discarded"
        )

    def _discover_once(self) -> ServerInfo:
        try:
            return server_info.discover(self._http, self.base_url, self.config)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            message = f"cannot connect to the model server at {self.base_url}: {_plain(exc)}"
            raise _Retry(message, unreachable=True) from None
        except httpx.TimeoutException:
            raise ModelUnavailable(f"the model server at {self.base_url} does not answer") from None
        except httpx.TransportError as exc:
            raise _Retry(
                f"the model server at {self.base_url} dropped the connection ({_plain(exc)})"
            ) from None

    def _retrying(self, attempt: Callable[[], T], cancel: threading.Event | None) -> T:
        try:
            return self._retry_loop(attempt, cancel)
        except ModelUnavailable as exc:
            hint = self._down_hint(self.base_url) if self._down_hint is not None else ""
            if not hint:
                raise
            raise ModelUnavailable(exc.message + hint) from None

    def _retry_loop(self, attempt: Callable[[], T], cancel: threading.Event | None) -> T:
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except _Retry as exc:
                if tries > self.config.max_retries:
                    hint = (
                        "; start one with `lingcode serve` or set model.base_url" if exc.unreachable else ""
                    )
                    times = "once" if tries == 1 else f"{tries} times"
                    raise ModelUnavailable(f"{exc.message} (tried {times}){hint}") from None
                delay = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else self.config.retry_backoff * 2 ** (tries - 1)
                )
                delay = min(delay, _MAX_RETRY_DELAY_S)
                if self._progress is not None:
                    self._progress(f"{exc.message}; retrying in {delay:.1f}s")
                if cancel is None:
                    time.sleep(delay)
                elif cancel.wait(delay):
                    raise _Cancelled from None


def _read_stream(
    response: httpx.Response, state: StreamState, dog: Watchdog, on_delta: Callable[[str], None] | None
) -> float | None:
    """Read SSE events into state until the body ends or a cancel; return when the first text came.

    This loop runs once per token, so it does no more than it must (benchmarks/client_overhead.py).
    """
    first_at: float | None = None
    cancel = dog.cancel_event
    # no stop at [DONE]: reading on to the body's end lets the connection be reused
    for added in stream_text(_body_bytes(response), state):
        if first_at is None:
            first_at = time.monotonic()
        dog.saw_content()
        if on_delta is not None:
            on_delta(added)
        if cancel is not None and cancel.is_set():
            break
    return first_at


def needs_tls(url: str) -> bool:
    """Whether requests to url (and so a TLS context) may need certificates checked.

    A plain http:// server needs no TLS context, and building one loads the CA bundle: about 100 ms, a third
    of the pre-commit hook's budget (benchmarks/hook.py). Redirects are not followed, so such a client never
    reaches an https:// URL.
    """
    return not url.lower().startswith("http://")


def _body_bytes(response: httpx.Response) -> Iterable[bytes]:
    """A streamed body's bytes as they arrive.

    A body without a content encoding (as model servers send) is read straight from the transport's stream:
    httpx's per-chunk layers above it (a no-op decoder, two chunkers, two more generators) cost about a
    microsecond per chunk, a tenth of the client's whole budget (benchmarks/client_overhead.py). The
    transport's stream raises httpx's own errors, and the `with` around the request closes the response.
    """
    stream = response.stream
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if isinstance(stream, httpx.SyncByteStream) and encoding in ("identity", ""):
        response.is_stream_consumed = True
        return stream
    return response.iter_bytes()


def _reply(
    text: str,
    usage: Usage | None,
    finish_reason: str | None,
    call_start: float,
    attempt_start: float,
    first_at: float | None,
    end: float,
    chunks: int,
) -> Reply:
    # without reported usage, count streamed chunks: servers send about one token per chunk
    usage = usage or Usage(completion_tokens=chunks)
    ttft = (first_at if first_at is not None else end) - attempt_start
    if first_at is not None and end > first_at and usage.completion_tokens > 1:
        rate = (usage.completion_tokens - 1) / (end - first_at)
    else:
        rate = usage.completion_tokens / (end - attempt_start) if end > attempt_start else 0.0
    return Reply(text, usage, finish_reason, ttft, end - call_start, rate)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None  # absent, or an HTTP date: fall back to our own backoff


def _plain(exc: Exception) -> str:
    """An httpx error as a short phrase: "[Errno 111] Connection refused" -> "connection refused"."""
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc).strip()) or type(exc).__name__
    return text[0].lower() + text[1:]
