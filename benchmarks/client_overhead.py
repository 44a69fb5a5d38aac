"""The model client's own overhead per streamed request, as a ratio to a bare httpx stream of the same bytes.

Both sides stream the same scripted reply from the same ScriptedServer over real HTTP on 127.0.0.1, on one
kept-alive connection each, interleaved request by request (alternating which goes first) so that machine
noise falls on both alike. The server runs in its own process, as a model server does, so that it does not
share the client's interpreter lock. The bare side only reads the body's bytes; the client side does all a
real call does: builds the request, reads SSE and the reply text out of every chunk's JSON, calls on_delta,
keeps its watchdog's deadlines and builds the Reply. The server's own work is in both, as it is in real use.

To compare with an earlier version of lingcode, run this script with PYTHONPATH pointing at a copy of it
(benchmarks/RESULTS.md, section "Client overhead", shows how the recorded before/after figures were made).

    python benchmarks/client_overhead.py [--requests 300] [--chars 2000] [--chunk-chars 4] [--token-rate 0]

By default the scripted server streams as fast as it can (tens of microseconds per chunk), the worst case
for the client: real model servers take milliseconds per token. `--token-rate N` paces it at N chunks per
second to see the overhead at a given model speed.

Target: median ratio <= 1.2. Exit code 1 when --check is given and the target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from lingcode.config import ModelConfig
from lingcode.model import ModelClient
from lingcode.model.client import NO_DELAY

TARGET = 1.2
MESSAGES = [{"role": "user", "content": "Write the function."}]


def _bare(http: httpx.Client, url: str, body: dict[str, Any]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    with http.stream("POST", url, json=body) as response:
        for _ in response.iter_bytes():
            pass
    return time.perf_counter() - started, time.process_time() - cpu


def _client(client: ModelClient, text: str) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    parts: list[str] = []
    reply = client.complete(MESSAGES, on_delta=parts.append)
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    if reply.text != text:
        raise SystemExit("the client read a different reply than the server sent")
    return elapsed


def measure(requests: int, chars: int, chunk_chars: int, token_rate: float = 0.0) -> dict[str, Any]:
    """Run the interleaved measurement; return the figures."""
    text = ("def add(a, b):\n    return a + b\n" * (chars // 32 + 1))[:chars]
    with (
        tempfile.TemporaryDirectory() as tmp,
        _server([_reply(text, token_rate)] * (2 * requests + 2), chunk_chars, Path(tmp)) as base,
    ):
        client = ModelClient(ModelConfig(), base)
        # the same socket options as the client, so that the ratio measures code, not TCP settings
        http = httpx.Client(
            timeout=30, trust_env=False, transport=httpx.HTTPTransport(socket_options=NO_DELAY)
        )
        body = {**_request_body(client), "stream": True}
        url = base + "/chat/completions"
        _client(client, text), _bare(http, url, body)  # warm-up: discovery, connections, caches
        bare: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        for i in range(requests):
            if i % 2:
                bare.append(_bare(http, url, body))
                ours.append(_client(client, text))
            else:
                ours.append(_client(client, text))
                bare.append(_bare(http, url, body))
        client.close()
        http.close()
    wall_bare, wall_ours = [b[0] for b in bare], [o[0] for o in ours]
    ratios = [o / b for o, b in zip(wall_ours, wall_bare, strict=True)]
    return {
        "requests": requests,
        "reply_chars": chars,
        "chunks_per_reply": -(-chars // chunk_chars),
        "token_rate": token_rate or "unpaced",
        "bare_median_ms": round(statistics.median(wall_bare) * 1000, 3),
        "client_median_ms": round(statistics.median(wall_ours) * 1000, 3),
        "ratio_of_medians": round(statistics.median(wall_ours) / statistics.median(wall_bare), 3),
        "median_pairwise_ratio": round(statistics.median(ratios), 3),
        "bare_cpu_median_ms": round(statistics.median(b[1] for b in bare) * 1000, 3),
        "client_cpu_median_ms": round(statistics.median(o[1] for o in ours) * 1000, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "target": TARGET,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def _reply(text: str, token_rate: float) -> dict[str, Any]:
    return {"text": text, "chunk_delay_s": 1.0 / token_rate if token_rate > 0 else 0.0}


@contextmanager
def _server(script: list[dict[str, Any]], chunk_chars: int, tmp: Path) -> Iterator[str]:
    """Run `python -m lingcode.model.scripted` on the script; yield its base URL."""
    path = tmp / "script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    command = [sys.executable, "-m", "lingcode.model.scripted", "--script", str(path)]
    command += ["--chunk-chars", str(chunk_chars)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _request_body(client: ModelClient) -> dict[str, Any]:
    """The same JSON body the client sends, so the server does the same work for both sides."""
    info = client.info()
    config = client.config
    return {
        "model": info.model,
        "messages": MESSAGES,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "stream_options": {"include_usage": True},
    }


def main() -> int:
    """Parse arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="streamed requests per side")
    parser.add_argument("--chars", type=int, default=2000, help="characters per reply")
    parser.add_argument("--chunk-chars", type=int, default=4, help="characters per SSE chunk")
    parser.add_argument("--token-rate", type=float, default=0.0, help="chunks per second (0: unpaced)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when the ratio is over the target")
    args = parser.parse_args()
    result = measure(args.requests, args.chars, args.chunk_chars, args.token_rate)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['requests']} streamed requests per side, {result['chunks_per_reply']} chunks each "
            f"({result['token_rate']} chunks/s): "
            f"bare httpx {result['bare_median_ms']} ms, lingcode client {result['client_median_ms']} ms "
            f"(medians); overhead ratio {result['ratio_of_medians']}x "
            f"(median of pairs {result['median_pairwise_ratio']}x; target <= {TARGET}x); "
            f"CPU of this process per request: bare {result['bare_cpu_median_ms']} ms, "
            f"client {result['client_cpu_median_ms']} ms; load average {result['load_average_1m']} "
            f"on {result['cpus']} CPUs"
        )
    return 1 if args.check and result["ratio_of_medians"] > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
