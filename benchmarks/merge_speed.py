"""Serving speed of a tuned adapter three ways, side by side in one run: the base model alone, base + adapter
applied by llama.cpp at run time (`lora`), and the merged model `lingcode tune merge` writes (`merged`).

Each server is lingcode's own llama.cpp command (lingcode.model.embedded.llama_command), one thread each, all
three up at once. Every prompt is a held-out task of the adapter's own training run (benchmarks/tune.py's
`own` set), asked greedily of base, lora and merged in turn (the order rotates per prompt), free decoding,
`--max-tokens` each, one request at a time. Per request: decode tokens/s (after the first token, as
lingcode's client measures it). Prints the median per model, the ratios to base, and on how many prompts the
merged model's reply is the same text as lora's (they compute the same up to Q8_0 rounding).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/merge_speed.py --adapter DIR [--data DIR] [--prompts 12]
"""

from __future__ import annotations

import argparse
import statistics
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from benchmarks.tune import own_cases, server
from lingcode.config import ServeConfig
from lingcode.model import embedded
from lingcode.tune.adapter_check import check_for_llama, read_manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--adapter", type=Path, required=True, help="a tune output with merged.gguf")
    parser.add_argument("--data", type=Path, default=None, help="the training data folder of the adapter")
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    model = embedded.model_file(ServeConfig())
    adapter = check_for_llama(args.adapter, model)
    if adapter.merged is None:
        raise SystemExit(f"{args.adapter} holds no merged model: run `lingcode tune merge` on it first")
    cases = own_cases(read_manifest(args.adapter), args.data, args.prompts)
    config = ServeConfig(ctx_size=4096, threads=1)
    speeds: dict[str, list[float]] = {"base": [], "lora": [], "merged": []}
    same = 0
    with ExitStack() as stack:
        clients = {
            "base": stack.enter_context(server(config, model, None)),
            "lora": stack.enter_context(server(config, model, replace(adapter, merged=None))),
            "merged": stack.enter_context(server(config, model, adapter)),
        }
        for n, case in enumerate(cases):
            names = list(clients)
            names = names[n % 3 :] + names[: n % 3]
            texts = {}
            for name in names:
                reply = clients[name].complete(case.messages, max_tokens=args.max_tokens)
                speeds[name].append(reply.tokens_per_s)
                texts[name] = reply.text
            same += texts["lora"] == texts["merged"]
            print(f"prompt {n + 1}: " + ", ".join(f"{k} {speeds[k][-1]:.1f}" for k in speeds), flush=True)
    median = {name: statistics.median(values) for name, values in speeds.items()}
    print(f"\nadapter {adapter.describe()}; {len(cases)} prompts, {args.max_tokens} tokens at most, greedy")
    print("| model | median tokens/s | ratio to base |")
    print("|---|---|---|")
    for name, value in median.items():
        print(f"| {name} | {value:.1f} | {value / median['base']:.2f} |")
    print(f"merged reply == lora reply: {same} of {len(cases)}")


if __name__ == "__main__":
    main()
