"""A deterministic OpenAI-compatible server for tests and demos: it answers from a script, over real HTTP.

    script = ["Hello!", Fault("status", status=429), ScriptedReply("Done.", finish_reason="length")]
    with ScriptedServer(script) as s:
        client = ModelClient(config, s.base_url)   # s.base_url == "http://127.0.0.1:PORT/v1"
        ...
        assert s.requests[0]["messages"] == [...]  # the JSON bodies POSTed to /v1/chat/completions

Each POST to /v1/chat/completions takes the next script item: a `str` or `ScriptedReply` is streamed as real
SSE (`data: {...}` events, a few characters each, then `data: [DONE]`) when the request asks for
`stream: true`, and returned as one JSON completion otherwise; a `Fault` misbehaves in the named way. An
exhausted script answers HTTP 500 "script exhausted". The server also mimics the discovery endpoints of the
engine it pretends to be (`engine=`): GET /v1/models always; llama.cpp's GET /props and POST /tokenize;
vLLM's `max_model_len`, GET /version and POST /tokenize; llama-cpp-python's POST /extras/tokenize/count.

Standalone: `python -m lingcode.model.scripted --script FILE.json [--port N]` prints the base URL on its first
line and serves until interrupted. FILE.json is a list of strings or objects: `{"text": ..., "finish_reason":
..., "delay_s": ...}` for replies, `{"fault": "drop_mid_stream" | "stall" | "status" | "malformed_json" |
"truncated_final", ...Fault fields}` for faults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal

from lingcode.events import Usage

FaultKind = Literal["drop_mid_stream", "stall", "status", "malformed_json", "truncated_final"]
Engine = Literal["llama-cpp", "vllm", "llama-cpp-python", "openai"]
_FAULT_KINDS = ("drop_mid_stream", "stall", "status", "malformed_json", "truncated_final")


@dataclass(frozen=True)
class ScriptedReply:
    """One reply of the script, with its finish reason, optional usage and timing."""

    text: str
    finish_reason: str = "stop"
    usage: Usage | None = None
    """Reported usage; None counts words of the prompt and the reply (and reports no cached tokens)."""
    delay_s: float = 0.0
    """Seconds to wait before the first byte of the reply (prompt processing)."""
    chunk_delay_s: float = 0.0
    """Seconds between streamed chunks (a slow model, e.g. to test cancelling)."""


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour.

    kinds: `drop_mid_stream` streams `text` then closes the connection without finishing (text "" drops
    before any content); `stall` streams `text` then goes silent for `stall_s` seconds; `status` answers
    HTTP `status` (e.g. 500, or 429 with `retry_after`); `malformed_json` streams `text` then a chunk that is
    not JSON (a body that is not JSON when not streaming); `truncated_final` streams `text` then a final
    chunk cut in half.
    """

    kind: FaultKind
    status: int = 500
    text: str = "partial"
    stall_s: float = 30.0
    retry_after: float | None = None
    message: str = "injected fault"


ScriptItem = str | ScriptedReply | Fault


class ScriptedServer:
    """A real HTTP server on 127.0.0.1, in a thread, answering OpenAI-compatible requests from a script."""

    def __init__(
        self,
        script: Sequence[ScriptItem] | None = None,
        *,
        model: str = "scripted-model",
        engine: Engine = "llama-cpp",
        context_window: int = 8192,
        chunk_chars: int = 4,
        port: int = 0,
        version: str = "0.11.0",
    ) -> None:
        self.script: list[ScriptItem] = list(script or [])
        self.model = model
        self.engine: Engine = engine
        self.context_window = context_window
        self.chunk_chars = max(1, chunk_chars)
        self.version = version
        """What vLLM's GET /version reports (engine="vllm")."""
        self.requests: list[dict[str, Any]] = []
        """JSON bodies received on /v1/chat/completions, in order."""
        self.auth_headers: list[str | None] = []
        """The Authorization header of each chat request (None where there was none)."""
        self.hits: list[str] = []
        """Every request as "METHOD /path", in order (discovery probes included)."""
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def add(self, *items: ScriptItem) -> None:
        """Append items to the script (thread-safe)."""
        with self.lock:
            self.script.extend(items)

    def next_item(self, body: dict[str, Any], auth: str | None = None) -> ScriptItem | None:
        """Record a chat request and take the next script item; None when the script is exhausted."""
        with self.lock:
            self.requests.append(body)
            self.auth_headers.append(auth)
            return self.script.pop(0) if self.script else None

    def start(self) -> ScriptedServer:
        """Start serving in a daemon thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="scripted-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled replies are woken so their threads end."""
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: ScriptedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up (cancelled streams, timeouts); report anything else."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def count_words(text: str) -> int:
    """A deterministic stand-in for a tokenizer: words and punctuation marks."""
    return len(re.findall(r"\w+|[^\w\s]", text))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # like real model servers: send each small SSE chunk at once instead of waiting for the peer's ACK
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the benchmark read stdout."""

    @property
    def owner(self) -> ScriptedServer:
        return self.server.owner

    def do_GET(self) -> None:
        owner = self.owner
        with owner.lock:
            owner.hits.append(f"GET {self.path}")
        if self.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [_model_entry(owner)]})
        elif self.path == "/props" and owner.engine == "llama-cpp":
            settings = {"n_ctx": owner.context_window, "model": owner.model}
            self._send_json(200, {"default_generation_settings": settings, "total_slots": 1})
        elif self.path == "/version" and owner.engine == "vllm":
            self._send_json(200, {"version": owner.version})
        elif self.path in ("/health", "/v1/health"):
            self._send_json(200, {"status": "ok"})
        else:
            self._send_error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        owner = self.owner
        with owner.lock:
            owner.hits.append(f"POST {self.path}")
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except json.JSONDecodeError:
            self._send_error(400, "request body is not JSON")
            return
        if self.path == "/v1/chat/completions":
            self._chat(body)
        elif self.path == "/tokenize" and owner.engine == "vllm":
            count = count_words(str(body.get("prompt", "")))
            self._send_json(200, {"count": count, "tokens": list(range(count))})
        elif self.path == "/tokenize" and owner.engine == "llama-cpp":
            self._send_json(200, {"tokens": list(range(count_words(str(body.get("content", "")))))})
        elif self.path == "/extras/tokenize/count" and owner.engine == "llama-cpp-python":
            self._send_json(200, {"count": count_words(str(body.get("input", "")))})
        else:
            self._send_error(404, f"no route {self.path}")

    def _chat(self, body: dict[str, Any]) -> None:
        item = self.owner.next_item(body, self.headers.get("Authorization"))
        stream = bool(body.get("stream"))
        if item is None:
            self._send_error(500, "script exhausted")
        elif isinstance(item, Fault):
            _FaultPlayer(self, item, stream).play()
        else:
            reply = ScriptedReply(item) if isinstance(item, str) else item
            if self._wait(reply.delay_s):
                return
            usage = reply.usage or _default_usage(body, reply.text)
            if stream:
                self._stream_reply(reply, usage, body)
            else:
                self._send_json(200, _completion(self.owner, reply, usage))

    def _stream_reply(self, reply: ScriptedReply, usage: Usage, body: dict[str, Any]) -> None:
        self._start_stream()
        for piece in self._pieces(reply.text):
            if self._wait(reply.chunk_delay_s) or not self._event(_chunk(self.owner, {"content": piece})):
                return
        final = _chunk(self.owner, {}, finish_reason=reply.finish_reason)
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if not self._event(final):
            return
        if with_usage:
            tail = _chunk(self.owner, None)
            tail.update(_usage_fields(self.owner, usage))
            if not self._event(tail):
                return
        if self._write_chunk(b"data: [DONE]\n\n"):
            self._write_chunk(b"")

    # -- low-level writing helpers, shared with _FaultPlayer --

    def _pieces(self, text: str) -> list[str]:
        size = self.owner.chunk_chars
        return [text[i : i + size] for i in range(0, len(text), size)]

    def _wait(self, seconds: float) -> bool:
        """Sleep, waking early when the server stops; True when it is stopping."""
        return self.owner.stopping.wait(seconds) if seconds > 0 else self.owner.stopping.is_set()

    def _start_stream(self, role_chunk: bool = True) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if role_chunk:
            self._event(_chunk(self.owner, {"role": "assistant", "content": ""}))

    def _event(self, payload: dict[str, Any]) -> bool:
        return self._write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> bool:
        """Write one HTTP chunk (b"" ends the body); False when the client has gone away."""
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            return True
        except OSError:
            self.close_connection = True
            return False

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _send_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        self._send_json(status, {"error": {"message": message, "type": kind, "code": status}}, headers)

    def _drop(self) -> None:
        """Close the connection abruptly, leaving the response unfinished."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()


class _FaultPlayer:
    """Plays one Fault on a request, streamed or not."""

    def __init__(self, handler: _Handler, fault: Fault, stream: bool) -> None:
        self.h = handler
        self.fault = fault
        self.stream = stream

    def play(self) -> None:
        fault, h = self.fault, self.h
        if fault.kind == "status":
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            h._send_error(fault.status, fault.message, headers)
        elif not self.stream:
            self._play_plain()
        elif self._stream_text():
            self._play_stream_tail()

    def _stream_text(self) -> bool:
        self.h._start_stream()
        return all(
            self.h._event(_chunk(self.h.owner, {"content": p})) for p in self.h._pieces(self.fault.text)
        )

    def _play_stream_tail(self) -> None:
        fault, h = self.fault, self.h
        if fault.kind == "drop_mid_stream":
            h._drop()
        elif fault.kind == "stall":
            h._wait(fault.stall_s)
            h._drop()
        elif fault.kind == "malformed_json":
            sent = h._write_chunk(b'data: {"choices": [{"delta": {"content": "oops"\n\n')
            if sent and h._write_chunk(b"data: [DONE]\n\n"):
                h._write_chunk(b"")
        else:  # truncated_final: half of the final chunk, then the connection closes
            final = json.dumps(_chunk(h.owner, {}, finish_reason="stop")).encode()
            h._write_chunk(b"data: " + final[: len(final) // 2])
            h._drop()

    def _play_plain(self) -> None:
        fault, h = self.fault, self.h
        body = json.dumps(_completion(h.owner, ScriptedReply(fault.text), Usage())).encode()
        if fault.kind == "stall":
            h._wait(fault.stall_s)
            h._drop()
            return
        cut = body[: len(body) // 2]
        with contextlib.suppress(OSError):
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            # drop: promise the whole body and stop halfway; malformed / truncated: a complete response of
            # bytes that are not JSON
            h.send_header("Content-Length", str(len(body) if fault.kind == "drop_mid_stream" else len(cut)))
            h.end_headers()
            h.wfile.write(cut)
        if fault.kind == "drop_mid_stream":
            h._drop()


def _model_entry(owner: ScriptedServer) -> dict[str, Any]:
    owned_by = {"llama-cpp": "llamacpp", "vllm": "vllm", "llama-cpp-python": "me", "openai": "scripted"}
    entry: dict[str, Any] = {
        "id": owner.model,
        "object": "model",
        "created": 0,
        "owned_by": owned_by[owner.engine],
    }
    if owner.engine == "vllm":
        entry["max_model_len"] = owner.context_window
    return entry


def _chunk(
    owner: ScriptedServer, delta: dict[str, str] | None, finish_reason: str | None = None
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": owner.model,
        "choices": choices,
    }


def _completion(owner: ScriptedServer, reply: ScriptedReply, usage: Usage) -> dict[str, Any]:
    message = {"role": "assistant", "content": reply.text}
    payload: dict[str, Any] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": owner.model,
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
    }
    payload.update(_usage_fields(owner, usage))
    return payload


def _usage_fields(owner: ScriptedServer, usage: Usage) -> dict[str, Any]:
    """Usage as the mimicked engine reports it: OpenAI/vLLM details, plus llama.cpp's own timings."""
    out: dict[str, Any] = {
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        }
    }
    if owner.engine == "llama-cpp":
        out["timings"] = {
            "cache_n": usage.cached_tokens,
            "prompt_n": usage.prompt_tokens - usage.cached_tokens,
            "predicted_n": usage.completion_tokens,
        }
    else:
        out["usage"]["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    return out


def _default_usage(body: dict[str, Any], text: str) -> Usage:
    messages = body.get("messages") or []
    prompt = sum(count_words(str(m.get("content", ""))) for m in messages if isinstance(m, dict))
    return Usage(prompt_tokens=prompt, completion_tokens=count_words(text))


def load_script(path: Path) -> list[ScriptItem]:
    """Read a JSON script file: a list of strings, reply objects and fault objects."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list")
    return [_item_from_json(entry, f"{path}[{i}]") for i, entry in enumerate(data)]


def _item_from_json(entry: Any, where: str) -> ScriptItem:
    if isinstance(entry, str):
        return entry
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a string or an object")
    entry = dict(entry)
    if "fault" in entry:
        kind = entry.pop("fault")
        if kind not in _FAULT_KINDS:
            raise ValueError(f"{where}: unknown fault {kind!r}; expected one of {', '.join(_FAULT_KINDS)}")
        _check_keys(entry, Fault, where)
        return Fault(kind=kind, **entry)
    _check_keys(entry, ScriptedReply, where)
    usage = entry.pop("usage", None)
    return ScriptedReply(**entry, usage=Usage(**usage) if isinstance(usage, dict) else None)


def _check_keys(entry: dict[str, Any], cls: type, where: str) -> None:
    allowed = {f.name for f in fields(cls)} - {"kind"}
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(unknown)}")


def main(argv: list[str] | None = None) -> int:
    """Serve a script file until interrupted; the first stdout line is the base URL."""
    parser = argparse.ArgumentParser(
        prog="python -m lingcode.model.scripted", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--script", type=Path, required=True, help="JSON file: list of replies and faults")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--model", default="scripted-model", help="model name to report")
    parser.add_argument("--chunk-chars", type=int, default=4, help="characters per streamed chunk")
    parser.add_argument(
        "--engine", default="llama-cpp", choices=["llama-cpp", "vllm", "llama-cpp-python", "openai"]
    )
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script)
    except (OSError, ValueError, TypeError) as exc:
        print(f"scripted: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    options = {"model": args.model, "engine": args.engine, "port": args.port, "chunk_chars": args.chunk_chars}
    with ScriptedServer(script, **options) as server:
        print(server.base_url, flush=True)
        while not done.wait(0.5):
            pass  # a timed wait, so the signal handler gets to run
    return 0


if __name__ == "__main__":
    sys.exit(main())
