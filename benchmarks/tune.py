"""Base versus tuned: the embedded model (Gemma 3 270M) with and without a `lingcode tune` LoRA adapter,
side by side in one run, freely and under the llama.cpp grammar, on broken functions the training never saw.

Two task sets, each a function broken the way `lingcode tune data` breaks them, shown the way the training
data shows them, and answered with one SEARCH/REPLACE reply:
  own    the validation split of this repository: the files the adapter's run held out (split by file with
         its seed; `--data` names the training data folder, checked against the adapter's data hash, or the
         split is made again with the manifest's seed; trained on several repositories, this one must be
         the first `--from-repo`, and only its held-out tasks count);
  other  a second repository the adapter never saw (`--other-repo`, a git work tree or a bare mirror).
Per request: usable edit (parses and applies as lingcode's loop applies it: lingcode.edit, a block whose path
is made up moved to the shown file that holds its SEARCH lines; "of which path repaired" counts those),
changed the file (a usable edit that is not a no-op), exact fix (the file is byte for byte the file before
the break), reply seconds and tokens/s. Tasks whose reference fix would not fit in --max-tokens (at 3
characters a token) are left out for both models.
Two servers run at once and every task asks base then tuned, one request at a time, so both see the same
machine load. `tuned` is the adapter as lingcode serves it: its merged model when the folder holds one;
`--lora-too` adds a third server with the adapter applied at run time (`lora`), to compare the two. Prints a
table and the ratios to base.

    .venv/bin/python benchmarks/tune.py --adapter DIR [--data DIR] [--other-repo PATH] [--tasks 20]
        [--max-tokens 256] [--threads 2] [--show] [--lora-too]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lingcode.config import ModelConfig, ServeConfig
from lingcode.edit import FormatError, apply_edits, parse_reply
from lingcode.edit.grammar import GrammarLimits, constrained_grammar
from lingcode.edit.retarget import retarget
from lingcode.model import Constraint, ModelClient, embedded, process
from lingcode.tune.adapter_check import Adapter, check_for_llama, read_manifest
from lingcode.tune.data import tasks_for_file, tracked_files, write_tasks

PROJECT = Path(__file__).resolve().parents[1]
LIMITS = GrammarLimits(
    reasoning_lines=0, max_blocks=1, max_replace_lines=16, max_line_chars=160, new_files=False
)
"""One block, no reasoning, no new file: what a fix of one broken function needs."""
MODES = ("free", "constrained")


@dataclass(frozen=True)
class Case:
    """One broken function: the file as broken and as it was, and the request (system and user messages)."""

    path: str
    function: str
    breakage: str
    broken: str
    """The broken function, as the request shows it."""
    broken_file: str
    original_file: str
    messages: list[dict[str, str]]


@dataclass
class Tally:
    """Outcomes of one (set, model, mode)."""

    usable: int = 0
    repaired: int = 0
    changed: int = 0
    exact: int = 0
    seconds: list[float] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)


CHARS_PER_TOKEN = 3.0
"""A low estimate for code, so a reference fix kept by `fits` is never cut off by max_tokens."""
MAX_REPLY_TOKENS = 256


def case_from(root: Path, record: dict[str, Any]) -> Case | None:
    """The case of a task record, when its function is still in the file exactly once and its reference fix
    fits the reply budget (a fix no model could finish in max_tokens says nothing about either model)."""
    path, original, broken = str(record["path"]), str(record["original"]), str(record["broken"])
    reference = next(m["content"] for m in record["messages"] if m["role"] == "assistant")
    if len(reference) > CHARS_PER_TOKEN * MAX_REPLY_TOKENS:
        return None
    try:
        text = (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if text.count(original) != 1:
        return None  # the file changed since the data was made
    messages = [dict(m) for m in record["messages"] if m["role"] != "assistant"]
    function, breakage = str(record["function"]), str(record["breakage"])
    return Case(path, function, breakage, broken, text.replace(original, broken), text, messages)


def spread(cases: list[Case], count: int, seed: int) -> list[Case]:
    """count cases in a seeded order, one per file first, so no single file decides the result."""
    order = sorted(cases, key=lambda c: hashlib.sha256(f"{seed}:{c.path}:{c.function}".encode()).digest())
    firsts: list[Case] = []
    rest: list[Case] = []
    seen: set[str] = set()
    for case in order:
        (rest if case.path in seen else firsts).append(case)
        seen.add(case.path)
    return (firsts + rest)[:count]


def own_cases(manifest: dict[str, Any], data: Path | None, count: int) -> list[Case]:
    """The held-out split of this repository: from the training data folder, or made again with its seed."""
    seed = int(manifest.get("seed", 0))
    if data is not None:
        digest = hashlib.sha256()
        for name in ("train.jsonl", "valid.jsonl"):
            digest.update((data / name).read_bytes())
        if digest.hexdigest() != manifest.get("data_sha256"):
            sys.exit(f"{data} is not the data the adapter was trained on (its data_sha256 differs)")
        lines = (data / "valid.jsonl").read_text(encoding="utf-8").splitlines()
        data_manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
        seed = int(data_manifest.get("seed", seed))
        parts = data_manifest.get("repositories")
        if parts:  # trained on several repositories: this one is the first, whose tasks come first
            lines = lines[: int(parts[0]["valid_tasks"])]
    else:
        train = manifest.get("train")
        fraction = float(train.get("valid_fraction", 0.1)) if isinstance(train, dict) else 0.1
        valid = io.StringIO()
        write_tasks(PROJECT, seed, fraction, io.StringIO(), valid)
        lines = valid.getvalue().splitlines()
    found = [case for line in lines if (case := case_from(PROJECT, json.loads(line))) is not None]
    return spread(found, count, seed)


@contextmanager
def checkout(repo: Path) -> Iterator[Path]:
    """A git work tree of repo's HEAD (repo may be a bare mirror), committed, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="tune-bench-") as tmp:
        root = Path(tmp) / "other"
        root.mkdir()
        archive = subprocess.run(["git", "-C", str(repo), "archive", "HEAD"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
        env = ["-c", "user.name=bench", "-c", "user.email=bench@lingcode.invalid"]
        for args in (["init", "-q"], ["add", "-A"], [*env, "commit", "-qm", "snapshot"]):
            subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
        yield root


def other_cases(root: Path, count: int, seed: int) -> list[Case]:
    """Tasks from every file of another repository (the adapter saw none of it)."""
    found = []
    for path in tracked_files(root):
        for task in tasks_for_file(root, path, random.Random(f"{seed}:{path}")):
            case = case_from(root, json.loads(task.to_json()))
            if case is not None:
                found.append(case)
    return spread(found, count, seed)


@contextmanager
def server(config: ServeConfig, model: Path, adapter: Adapter | None) -> Iterator[ModelClient]:
    """A llama.cpp server of its own (not the shared embedded one), and a client for it."""
    port = process.free_port(config.host)
    log = Path(tempfile.gettempdir()) / f"tune-bench-{port}.log"
    child = process.spawn(embedded.llama_command(config, model, port, adapter), log)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        process.wait_healthy(base_url, child, config.startup_timeout, log)
        settings = ModelConfig(temperature=0.0, first_token_timeout=600.0, idle_timeout=300.0)
        with ModelClient(settings, base_url) as client:
            yield client
    finally:
        process.stop_group(child.pid)
        child.wait()


def score(case: Case, reply: str) -> tuple[bool, bool, bool, bool]:
    """(usable: parses and applies, changed: the file, exact: byte for byte what it was before the break,
    repaired: usable only because its made-up path was moved to the shown file, as lingcode's loop does)."""
    try:
        edits = parse_reply(reply)
    except FormatError:
        return False, False, False, False
    if not edits:
        return False, False, False, False
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / case.path).parent.mkdir(parents=True, exist_ok=True)
        (root / case.path).write_text(case.broken_file, encoding="utf-8")
        edits, moved = retarget(edits, root, [case.path])
        result = apply_edits(edits, root)
        if not result.ok:
            return False, False, False, False
        if case.path not in result.changed_paths:
            return True, False, False, bool(moved)  # e.g. REPLACE copied from SEARCH: applies, fixes nothing
        exact = (root / case.path).read_text(encoding="utf-8") == case.original_file
        return True, True, exact, bool(moved)


def grammar_for(case: Case) -> Constraint:
    """The per-request grammar: SEARCH only from the broken function's lines (the context shown)."""
    first = case.broken_file[: case.broken_file.index(case.broken)].count("\n") + 1
    window = (first, first + case.broken.count("\n") - 1)
    result = constrained_grammar({case.path: case.broken_file}, windows={case.path: [window]}, limits=LIMITS)
    return Constraint(grammar=result.text, syntax="gbnf")


def ask(client: ModelClient, case: Case, mode: str, max_tokens: int) -> tuple[str, float, float]:
    """(reply, seconds, tokens/s) of one request."""
    constraint = grammar_for(case) if mode == "constrained" else None
    reply = client.complete(case.messages, constraint=constraint, max_tokens=max_tokens)
    return reply.text, reply.duration_s, reply.tokens_per_s


def run(
    sets: dict[str, list[Case]], clients: dict[str, ModelClient], args: argparse.Namespace
) -> dict[tuple[str, str, str], Tally]:
    """Every case of every set, each mode, base then the tuned model(s), one request at a time."""
    tallies = {(s, m, mode): Tally() for s in sets for m in clients for mode in MODES}
    for set_name, cases in sets.items():
        for n, case in enumerate(cases, 1):
            for mode in MODES:
                for model, client in clients.items():
                    reply, seconds, speed = ask(client, case, mode, args.max_tokens)
                    usable, changed, exact, repaired = score(case, reply)
                    tally = tallies[(set_name, model, mode)]
                    tally.usable += usable
                    tally.changed += changed
                    tally.exact += exact
                    tally.repaired += repaired
                    tally.seconds.append(seconds)
                    tally.speeds.append(speed)
                    print(
                        f"{set_name} {n} {model} {mode}: usable {usable:d} exact {exact:d} {seconds:.1f}s "
                        f"{speed:.1f} tok/s",
                        file=sys.stderr,
                        flush=True,
                    )
                    if args.show:
                        print(
                            f"===== {set_name} {n} {case.path}:{case.function} {model} {mode}\n{reply}\n",
                            file=sys.stderr,
                        )
            print(f"{set_name} {n}/{len(cases)} done", file=sys.stderr, flush=True)
    return tallies


def report(sets: dict[str, list[Case]], tallies: dict[tuple[str, str, str], Tally]) -> None:
    """The table, then each tuned model's ratios to base per set and mode."""
    print(
        "| set | model | mode | tasks | usable edit | of which path repaired | changed the file | exact fix "
        "| median s/reply | median tokens/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (set_name, model, mode), tally in tallies.items():
        n = len(sets[set_name])
        print(
            f"| {set_name} | {model} | {mode} | {n} | {100 * tally.usable / n:.0f}% | {tally.repaired} | "
            f"{100 * tally.changed / n:.0f}% | {100 * tally.exact / n:.0f}% | "
            f"{statistics.median(tally.seconds):.2f} | {statistics.median(tally.speeds):.1f} |"
        )
    models = [model for model in dict.fromkeys(model for _, model, _ in tallies) if model != "base"]
    print("\n| set | mode | model | usable model/base | exact model/base | tokens/s model/base |")
    print("|---|---|---|---|---|---|")
    for set_name in sets:
        for mode in MODES:
            for model in models:
                base, tuned = tallies[(set_name, "base", mode)], tallies[(set_name, model, mode)]
                speed = statistics.median(tuned.speeds) / statistics.median(base.speeds)
                print(
                    f"| {set_name} | {mode} | {model} | {_ratio(tuned.usable, base.usable)} | "
                    f"{_ratio(tuned.exact, base.exact)} | {speed:.2f} |"
                )


def _ratio(tuned: int, base: int) -> str:
    return (
        f"{tuned / base:.2f} ({tuned} vs {base})"
        if base
        else f"inf ({tuned} vs 0)"
        if tuned
        else "- (0 vs 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--adapter", type=Path, required=True, help="a `lingcode tune` output folder")
    parser.add_argument("--data", type=Path, default=None, help="the training data folder of the adapter")
    parser.add_argument("--other-repo", type=Path, default=Path("/work/.mirror/pytest-dev+pytest/repo"))
    parser.add_argument("--tasks", type=int, default=20, help="tasks per set")
    parser.add_argument("--max-tokens", type=int, default=256)
    # one thread each: on a shared, oversubscribed machine llama.cpp's threads wait on each other at every
    # barrier (measured here: 1.3 tokens/s with 2 threads, 6.1 with 1, at load 11 on 2 cores)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7, help="which tasks of the second repository")
    parser.add_argument("--show", action="store_true", help="print every reply")
    parser.add_argument(
        "--lora-too",
        action="store_true",
        help="when the adapter holds its merged model (served as `tuned`), serve base + adapter too (`lora`)",
    )
    parser.add_argument("--dry-run", action="store_true", help="build the tasks and grammars, ask nothing")
    args = parser.parse_args()
    global MAX_REPLY_TOKENS
    MAX_REPLY_TOKENS = args.max_tokens
    # a SIGTERM (a time limit) unwinds like an exception, so both servers are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    model = embedded.model_file(ServeConfig())
    adapter = check_for_llama(args.adapter, model)
    manifest = read_manifest(args.adapter)
    with checkout(args.other_repo) as other:
        sets = {
            "own": own_cases(manifest, args.data, args.tasks),
            "other": other_cases(other, args.tasks, args.seed),
        }
        config = ServeConfig(ctx_size=4096, threads=args.threads)
        print(f"adapter {adapter.describe()}; tasks: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
        if args.dry_run:
            for name, cases in sets.items():
                for case in cases:
                    print(
                        f"{name} {case.path}:{case.function} {case.breakage} {len(grammar_for(case).grammar)}"
                    )
            return
        with ExitStack() as stack:
            clients = {"base": stack.enter_context(server(config, model, None))}
            clients["tuned"] = stack.enter_context(server(config, model, adapter))
            if args.lora_too and adapter.merged:  # the same adapter applied at run time, beside its merge
                clients["lora"] = stack.enter_context(server(config, model, replace(adapter, merged=None)))
            tallies = run(sets, clients, args)
    report(sets, tallies)


if __name__ == "__main__":
    main()
