"""The HTTP side of the scripted server: the request handler, fault playing, and the JSON it answers with.

Mimics the engines' shapes closely enough for the client's discovery and usage parsing to be tested.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lingcode.model.reply import Usage
from lingcode.model.scripted import Fault, ScriptedReply, ScriptedServer


class ScriptedHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the ScriptedServer it serves for."""

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


class ScriptedHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests from the owner's script."""

    protocol_version = "HTTP/1.1"
    # like real model servers: send each small SSE chunk at once instead of waiting for the peer's ACK
    disable_nagle_algorithm = True
    server: ScriptedHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the benchmark read stdout."""

    @property
    def owner(self) -> ScriptedServer:
        return self.server.owner

    def do_GET(self) -> None:
        owner = self.owner
        with owner.lock:
            owner.hits.append(f"GET {self.path}")
        owner.log_request("GET", self.path, None)
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
        owner.log_request("POST", self.path, body)
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

    def __init__(self, handler: ScriptedHandler, fault: Fault, stream: bool) -> None:
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
