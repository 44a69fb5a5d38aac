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
"truncated_final", ...Fault fields}` for faults. `--log FILE` appends one JSON line per request
(`{"method", "path", "body"}`), flushed per request, so a test can assert what left the machine.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal

from lingcode.model.reply import Usage

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
        log_path: Path | None = None,
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
        self.log_path = log_path
        """Where each request is appended as one JSON line (method, path, body), flushed per request."""
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        # imported here: the HTTP module needs this one's classes at import time
        from lingcode.model.scripted_http import ScriptedHandler, ScriptedHTTPServer

        self._httpd = ScriptedHTTPServer(("127.0.0.1", port), ScriptedHandler)
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

    def log_request(self, method: str, path: str, body: Any) -> None:
        """Append one request to the log file, flushed at once so a test can read what left the machine."""
        if self.log_path is None:
            return
        line = json.dumps({"method": method, "path": path, "body": body}, ensure_ascii=False)
        with self.lock, self.log_path.open("a", encoding="utf-8") as log:
            log.write(line + "\n")
            log.flush()

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
    parser.add_argument("--log", type=Path, default=None, help="append each request as a JSON line here")
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
    server = ScriptedServer(
        script, model=args.model, engine=args.engine, port=args.port, chunk_chars=args.chunk_chars,
        log_path=args.log,
    )  # fmt: skip
    with server:
        print(server.base_url, flush=True)
        while not done.wait(0.5):
            pass  # a timed wait, so the signal handler gets to run
    return 0


if __name__ == "__main__":
    sys.exit(main())
