"""What choosing the adapter costs every command that starts or reuses the embedded server.

resolve_adapter on the embedded GGUF with the adapter that ships with lingcode (no user default: run it with
XDG_DATA_HOME pointing at an empty folder) against serve.no_lora, alternating, N calls each; prints min and
median milliseconds of each. Needs the `local` extra (the embedded model).

    XDG_DATA_HOME=/tmp/emptyxdg .venv/bin/python benchmarks/adapter_check_cost.py [--calls 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

from lingcode.config import ServeConfig
from lingcode.model.embedded import resolve_adapter
from lingcode.model.gguf import embedded_model_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    model = embedded_model_path()
    configs = {"shipped adapter": ServeConfig(), "no adapter": ServeConfig(no_lora=True)}
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.calls):
        for name, config in configs.items():
            started = time.perf_counter()
            resolve_adapter(config, model)
            times[name].append(time.perf_counter() - started)
    for name, seconds in times.items():
        print(f"{name}: min {min(seconds) * 1000:.2f} ms, median {statistics.median(seconds) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
