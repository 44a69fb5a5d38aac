"""Free versus grammar-constrained replies of the embedded model (Gemma 3 270M) on small real files.

For each file (small Python modules of this project, copied into a temporary repository) the model is asked
for one small edit, once freely and once under the per-request grammar from
lingcode.edit.constrained_grammar. Reported side by side: the share of replies that parse into edits, the
share that apply, and the latency of each (plus the time to build the grammar).

    .venv/bin/python benchmarks/constrained.py [--files 30] [--max-tokens 256] [--base-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lingcode.config import load_config
from lingcode.edit import FormatError, SearchReplace, apply_edits, parse_reply, render_edit
from lingcode.edit.grammar import GrammarLimits, constrained_grammar
from lingcode.model import Constraint, ModelClient, open_model

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = render_edit(
    SearchReplace("pkg/util.py", "def one():\n    return 1\n", "def one():\n    return 1.0\n")
)
SYSTEM = (
    "You edit code. Answer with SEARCH/REPLACE blocks only: the file path alone on a line, then "
    "<<<<<<< SEARCH, lines copied exactly from the file, =======, the new lines, >>>>>>> REPLACE.\n"
    f"Example:\n{EXAMPLE}"
)


@dataclass
class Tally:
    """Outcomes of one mode."""

    parsed: int = 0
    applied: int = 0
    changed: int = 0
    seconds: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)


def pick_files(count: int) -> list[Path]:
    """Small real Python files of this project (15-80 lines), smallest first."""
    found = []
    for path in sorted((PROJECT / "lingcode").rglob("*.py")) + sorted((PROJECT / "tests").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        if 15 <= lines <= 80:
            found.append((lines, path))
    return [path for _, path in sorted(found)[:count]]


# short enough that a constrained reply always ends inside the token budget
# and no new-file form: the task edits the file in context
LIMITS = GrammarLimits(
    reasoning_lines=0, max_blocks=1, max_replace_lines=8, max_line_chars=100, new_files=False
)


def anchor_line(text: str) -> int:
    """The 0-based index of the first `def` line (or the first line)."""
    lines = text.splitlines()
    return next((i for i, line in enumerate(lines) if line.lstrip().startswith("def ")), 0)


def task_for(text: str) -> str:
    """A small, checkable edit: add a comment after the first def (or first) line."""
    anchor = text.splitlines()[anchor_line(text)]
    return f"Add the comment line `# reviewed` right after this line:\n{anchor}"


def ask(
    client: ModelClient, rel: str, text: str, grammar: str | None, max_tokens: int
) -> tuple[str, float, int]:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{rel}\n```\n{text}```\n\n{task_for(text)}"},
    ]
    constraint = Constraint(grammar=grammar, syntax="gbnf") if grammar else None
    started = time.perf_counter()
    reply = client.complete(messages, constraint=constraint, max_tokens=max_tokens)
    return reply.text, time.perf_counter() - started, reply.usage.completion_tokens


def score(reply: str, rel: str, text: str, tally: Tally) -> None:
    try:
        edits = parse_reply(reply)
    except FormatError:
        return
    if not edits:
        return
    tally.parsed += 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
        result = apply_edits(edits, root)
        tally.applied += result.ok
        tally.changed += result.ok and rel in result.changed_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument(
        "--base-url", default=None, help="an OpenAI-compatible server instead of the embedded one"
    )
    parser.add_argument("--show", action="store_true", help="print every reply")
    args = parser.parse_args()
    config = load_config(flags={"model.base_url": args.base_url})
    client = open_model(config, progress=lambda line: print(line, file=sys.stderr))
    info = client.info()
    if not info.supports_grammar:
        sys.exit(f"{info.engine} server for {info.model} takes no grammar; nothing to compare")
    free, constrained = Tally(), Tally()
    build_s: list[float] = []
    files = pick_files(args.files)
    for path in files:
        rel = path.relative_to(PROJECT).as_posix()
        text = path.read_text(encoding="utf-8")
        anchor = anchor_line(text) + 1  # the context engine would rank this window highest
        grammar = constrained_grammar({rel: text}, windows={rel: [(anchor - 1, anchor + 4)]}, limits=LIMITS)
        build_s.append(grammar.compile_s)
        for mode, tally, gbnf in (("free", free, None), ("constrained", constrained, grammar.text)):
            reply, seconds, tokens = ask(client, rel, text, gbnf, args.max_tokens)
            tally.seconds.append(seconds)
            tally.tokens.append(tokens)
            applied_before = tally.applied
            score(reply, rel, text, tally)
            if args.show or (gbnf and tally.applied == applied_before):  # a constrained reply that failed
                print(f"===== {rel} ({mode})\n{reply}\n", file=sys.stderr)
    report(info.model, len(files), free, constrained, build_s)


def report(model: str, n: int, free: Tally, constrained: Tally, build_s: list[float]) -> None:
    print(f"model {model}, {n} files, one request per file and mode\n")
    print("| mode | parse | parse and apply | changed the file | median s/reply | median tokens | ms/token |")
    print("|---|---|---|---|---|---|---|")
    for name, tally in (("free", free), ("constrained", constrained)):
        per_token = [1000 * s / t for s, t in zip(tally.seconds, tally.tokens, strict=True) if t]
        print(
            f"| {name} | {100 * tally.parsed / n:.0f}% | {100 * tally.applied / n:.0f}% | "
            f"{100 * tally.changed / n:.0f}% | "
            f"{statistics.median(tally.seconds):.2f} | {statistics.median(tally.tokens):.0f} | "
            f"{statistics.median(per_token) if per_token else float('nan'):.1f} |"
        )
    median, worst = 1000 * statistics.median(build_s), 1000 * max(build_s)
    print(f"\ngrammar build: median {median:.1f} ms, max {worst:.1f} ms")


if __name__ == "__main__":
    main()
