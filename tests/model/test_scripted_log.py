"""The scripted server's request log: one flushed JSON line per request, in-process and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from lingcode.model.scripted import ScriptedServer


def _post(url: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_in_process_log_has_every_request_with_its_full_body(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    body = {"model": "m", "messages": [{"role": "user", "content": "canary-\u00e9-42"}]}
    with ScriptedServer(["hi"], log_path=log) as server:
        urllib.request.urlopen(f"{server.base_url}/models", timeout=10).read()
        _post(f"{server.base_url}/chat/completions", body)
        # flushed per request: readable while the server still runs
        lines = _lines(log)
    assert lines[0] == {"method": "GET", "path": "/v1/models", "body": None}
    assert lines[1] == {"method": "POST", "path": "/v1/chat/completions", "body": body}


def test_subprocess_log_is_flushed_before_the_server_stops(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["hello"]), encoding="utf-8")
    log = tmp_path / "requests.jsonl"
    cmd = [sys.executable, "-m", "lingcode.model.scripted", "--script", str(script), "--log", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        body = {"model": "m", "messages": [{"role": "user", "content": "what left the machine"}]}
        _post(f"{base_url}/chat/completions", body)
        lines = _lines(log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert lines == [{"method": "POST", "path": "/v1/chat/completions", "body": body}]
