"""The scripted server itself, spoken to with bare httpx: real SSE, JSON replies, faults, discovery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from lingcode.events import Usage
from lingcode.model.scripted import Fault, ScriptedReply, ScriptedServer, load_script

MESSAGES = [{"role": "user", "content": "say hello"}]


def _events(response: httpx.Response) -> list[str]:
    return [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]


def _stream(server: ScriptedServer, **extra: Any) -> list[str]:
    body = {"model": "m", "messages": MESSAGES, "stream": True, **extra}
    with httpx.stream("POST", server.base_url + "/chat/completions", json=body, timeout=5) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        return _events(response)


def test_streams_real_sse_in_small_chunks_and_records_the_request() -> None:
    with ScriptedServer(["Hello, world!"]) as server:
        events = _stream(server)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    assert "".join(pieces) == "Hello, world!"
    assert max(len(p) for p in pieces) <= 4 and len([p for p in pieces if p]) >= 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert server.requests == [{"model": "m", "messages": MESSAGES, "stream": True}]


def test_usage_chunk_only_when_asked_with_vllm_cached_tokens() -> None:
    reply = ScriptedReply("ok", usage=Usage(prompt_tokens=10, completion_tokens=1, cached_tokens=8))
    with ScriptedServer([reply, "again"], engine="vllm") as server:
        with_usage = [json.loads(e) for e in _stream(server, stream_options={"include_usage": True})[:-1]]
        without = [json.loads(e) for e in _stream(server)[:-1]]
    assert with_usage[-1]["choices"] == []
    assert with_usage[-1]["usage"]["prompt_tokens_details"] == {"cached_tokens": 8}
    assert not any("usage" in c for c in without)


def test_non_streaming_reply_is_one_json_completion_with_llama_cpp_timings() -> None:
    reply = ScriptedReply("cut", finish_reason="length", usage=Usage(5, 1, 3))
    with ScriptedServer([reply]) as server:
        data = httpx.post(server.base_url + "/chat/completions", json={"messages": MESSAGES}).json()
    assert data["choices"][0]["message"]["content"] == "cut"
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["timings"]["cache_n"] == 3 and data["usage"]["prompt_tokens"] == 5


def test_exhausted_script_answers_500() -> None:
    with ScriptedServer([]) as server:
        response = httpx.post(server.base_url + "/chat/completions", json={"messages": MESSAGES})
    assert response.status_code == 500
    assert "script exhausted" in response.json()["error"]["message"]


def test_status_fault_with_retry_after() -> None:
    with ScriptedServer([Fault("status", status=429, retry_after=2)]) as server:
        response = httpx.post(server.base_url + "/chat/completions", json={"messages": MESSAGES})
    assert response.status_code == 429 and response.headers["retry-after"] == "2"


@pytest.mark.parametrize("kind", ["drop_mid_stream", "truncated_final"])
def test_broken_streams_end_without_done(kind: str) -> None:
    with ScriptedServer([Fault(kind, text="Hello")]) as server:  # type: ignore[arg-type]
        body = {"messages": MESSAGES, "stream": True}
        with httpx.stream("POST", server.base_url + "/chat/completions", json=body) as response:
            seen: list[str] = []
            with pytest.raises(httpx.RemoteProtocolError):
                for line in response.iter_lines():
                    seen.append(line)
    assert "data: [DONE]" not in seen
    assert any("Hello"[:4] in line for line in seen)


def test_malformed_json_chunk() -> None:
    with ScriptedServer([Fault("malformed_json", text="")]) as server:
        events = _stream(server)
    with pytest.raises(json.JSONDecodeError):
        [json.loads(e) for e in events[:-1]]


def test_stall_goes_silent() -> None:
    with ScriptedServer([Fault("stall", text="", stall_s=5)]) as server:
        body = {"messages": MESSAGES, "stream": True}
        url = server.base_url + "/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=0.3) as response, pytest.raises(httpx.ReadTimeout):
            for _ in response.iter_lines():
                pass


@pytest.mark.parametrize(
    ("engine", "owned_by", "probe", "expected"),
    [
        ("llama-cpp", "llamacpp", ("GET", "/props", None), {"default_generation_settings"}),
        ("vllm", "vllm", ("POST", "/tokenize", {"prompt": "a b"}), {"count", "tokens"}),
        ("llama-cpp-python", "me", ("POST", "/extras/tokenize/count", {"input": "a b"}), {"count"}),
    ],
)
def test_discovery_endpoints_per_engine(
    engine: Any, owned_by: str, probe: tuple[str, str, Any], expected: set[str]
) -> None:
    with ScriptedServer([], engine=engine, context_window=4096) as server:
        root = server.base_url.removesuffix("/v1")
        models = httpx.get(server.base_url + "/models").json()["data"][0]
        response = httpx.request(probe[0], root + probe[1], json=probe[2])
    assert models["owned_by"] == owned_by and models["id"] == "scripted-model"
    assert response.status_code == 200 and expected <= set(response.json())
    assert (models.get("max_model_len") == 4096) == (engine == "vllm")


def test_load_script_and_standalone_process(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(["hi", {"text": "cut", "finish_reason": "length"}, {"fault": "status", "status": 503}])
    )
    assert load_script(script) == ["hi", ScriptedReply("cut", "length"), Fault("status", status=503)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lingcode.model.scripted", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        data = httpx.post(base_url + "/chat/completions", json={"messages": MESSAGES}, timeout=5).json()
        assert data["choices"][0]["message"]["content"] == "hi"
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
        proc.stdout.close()  # type: ignore[union-attr]


def test_bad_script_entries_are_named(tmp_path: Path) -> None:
    script = tmp_path / "bad.json"
    script.write_text(json.dumps([{"fault": "explode"}]))
    with pytest.raises(ValueError, match=r"bad.json\[0\]: unknown fault 'explode'"):
        load_script(script)
