"""How often context requests bring the gold file into view within 2 request rounds, on SWE-bench Lite tasks.

For each task the context engine builds the first prompt's context (8k tokens) from the problem statement.
When a gold file is missing from it, a stand-in model that sees only the issue asks, as a model would:

    round 1: NEED REGEX: ^\\s*(?:async\\s+)?(?:def|class)\\s+(?:A|B|C)\\b   for the first three code-like
             identifiers of the issue (backticked, snake_case, CamelCase or dotted; dotted names by their
             last part), i.e. "where are the things the issue names defined?"
    round 2: NEED FILE: for the first paths (up to the per-reply bound) that round 1's answer names and that
             are neither in context nor test files.

Both rounds go through the real answering code (lingcode/loop/requests.py) with the default settings
(hits, time limit, token share). A task is reached when every gold file is in context or shown by round 2;
"whole" when none of them was cut to fit. The stand-in's rule was fixed before any run and never tuned.
Beside it, in the same run: the same two rounds with a plain-text search (NEED SEARCH) for the first
identifier; and an oracle stand-in ("patch") that searches, the same way, for the definitions of the
functions and classes the gold patch's hunks sit in (what a model that had guessed the right names would
ask): it measures the answering side (caps, order, budget), not the guessing.

    python benchmarks/requests_reach.py [--data FILE] [--mirrors DIR] [--work DIR] [--limit N] [--only S]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.localize import DATA, MIRRORS, materialise

WORK = Path("/work/.bench/requests")
BUDGET = 8192
_BACKTICKED = re.compile(r"`([^`\n]{2,80})`")
_CODE_WORD = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\b")
_PATHS = re.compile(r"^([^\s:]+):\d+: ", re.MULTILINE)
_HUNK_SCOPE = re.compile(r"^@@[^@\n]*@@ ?(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)
WAYS = ("regex", "search", "patch")


def code_identifiers(text: str, count: int = 3) -> list[str]:
    """The first `count` distinct code-like names of an issue: backticked ones first, then snake_case,
    CamelCase or dotted words, each by its last dotted part."""
    found: list[str] = []

    def add(word: str) -> None:
        leaf = word.split(".")[-1].strip("()")
        if len(leaf) >= 4 and leaf.isidentifier() and leaf not in found:
            found.append(leaf)

    for inner in _BACKTICKED.findall(text):
        for word in _CODE_WORD.findall(inner):
            add(word)
    for word in _CODE_WORD.findall(text):
        if "_" in word.strip("_") or "." in word or re.search(r"[a-z][A-Z]", word):
            add(word)
    return found[:count]


@dataclass
class Tally:
    """Tasks reached by each way of looking, and what the requests cost."""

    tasks: int = 0
    in_context: int = 0
    reached: dict[str, int] = field(default_factory=dict)
    whole: dict[str, int] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)
    tokens: dict[str, list[int]] = field(default_factory=dict)

    def add(
        self, name: str, reached: bool, whole: bool, timed_out: bool, seconds: float, tokens: int
    ) -> None:
        """Record one task's outcome for one way of asking."""
        self.reached[name] = self.reached.get(name, 0) + reached
        self.whole[name] = self.whole.get(name, 0) + whole
        self.timeouts[name] = self.timeouts.get(name, 0) + timed_out
        self.seconds.setdefault(name, []).append(seconds)
        self.tokens.setdefault(name, []).append(tokens)


def two_rounds(
    root: Path, first: str, included: set[str], gold: set[str]
) -> tuple[bool, bool, bool, float, int]:
    """(reached, whole, round 1 timed out, seconds, answer tokens) of one stand-in's two request rounds."""
    from lingcode.config import LoopConfig
    from lingcode.context.files import is_test_path
    from lingcode.loop.requests import answer_requests, find_requests

    config = LoopConfig()
    started = time.perf_counter()
    (search,) = answer_requests(root, find_requests(first), config)
    timed_out = "took too long" in search.body
    paths = [
        p for p in dict.fromkeys(_PATHS.findall(search.body)) if p not in included and not is_test_path(p)
    ]
    asked = "".join(f"NEED FILE: {p}\n" for p in paths[: config.max_requests_per_turn])
    shown = answer_requests(root, find_requests(asked), config) if asked else []
    seconds = time.perf_counter() - started
    seen = {a.request.name for a in shown if a.ok}
    whole_seen = {a.request.name for a in shown if a.ok and "cut to fit the context budget" not in a.body}
    missing = gold - included
    tokens = search.tokens + sum(a.tokens for a in shown)
    return missing <= seen, missing <= whole_seen, timed_out, seconds, tokens


def _definitions(names: list[str]) -> str:
    """The request for where `names` are defined ("" without names)."""
    if not names:
        return ""
    return r"NEED REGEX: ^\s*(?:async\s+)?(?:def|class)\s+(?:" + "|".join(names) + r")\b"


def run_task(row: dict[str, object], root: Path, tally: Tally) -> str:
    """Score one task; return its line for the log."""
    from lingcode.context import build_context

    gold = {str(g) for g in row["gold_files"]}  # type: ignore[attr-defined]
    task = str(row["problem_statement"])
    ctx = build_context(task, root, BUDGET)
    included = {f.path for f in ctx.files if f.included}
    tally.tasks += 1
    names = code_identifiers(task)
    if gold <= included:
        tally.in_context += 1
        for name in WAYS:
            tally.add(name, True, True, False, 0.0, 0)
        return f"{row['instance_id']}: in context"
    scopes = list(dict.fromkeys(_HUNK_SCOPE.findall(str(row["patch"]))))[:3]
    asks = {
        "regex": _definitions(names),
        "search": f"NEED SEARCH: {names[0]}" if names else "",
        "patch": _definitions(scopes),
    }
    outcome = []
    for name, first in asks.items():
        if not first:
            tally.add(name, False, False, False, 0.0, 0)
            outcome.append(f"{name} nothing to ask")
            continue
        reached, whole, timed_out, seconds, tokens = two_rounds(root, first, included, gold)
        tally.add(name, reached, whole, timed_out, seconds, tokens)
        outcome.append(f"{name} {'reached' if reached else 'missed'} {seconds:.2f}s")
    return f"{row['instance_id']}: {', '.join(outcome)} (names {names})"


def report(tally: Tally) -> None:
    """Print the totals, as shares of all tasks and of the tasks whose gold was not in context."""
    n, rest = max(1, tally.tasks), max(1, tally.tasks - tally.in_context)
    share = 100 * tally.in_context / n
    print(f"\ntasks: {tally.tasks}; every gold file in the 8k context: {tally.in_context} ({share:.1f}%)")
    for name in WAYS:
        asked = sorted(s for s in tally.seconds[name] if s > 0) or [0.0]
        tokens = sorted(t for t in tally.tokens[name] if t > 0) or [0]
        got = tally.reached[name]
        print(
            f"{name:>6}: reached within 2 rounds {got} ({100 * got / n:.1f}%; "
            f"{got - tally.in_context} of the {tally.tasks - tally.in_context} not in context, "
            f"{100 * (got - tally.in_context) / rest:.1f}%), whole {tally.whole[name]}; "
            f"round-1 timeouts {tally.timeouts[name]}; per task that asked: median "
            f"{asked[len(asked) // 2]:.2f}s, {tokens[len(tokens) // 2]} answer tokens"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the measurement over the task file and print one line per task and the totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--only", default="", help="substring of instance ids to run")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if args.only in r["instance_id"]][: args.limit or None]
    tally = Tally()
    for row in rows:
        root = materialise(row, args.mirrors, args.work)
        print(run_task(row, root, tally), flush=True)
    report(tally)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
