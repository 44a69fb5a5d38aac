"""Benchmark the edit engine on ../shared/eval/edits-dev.jsonl beside `git apply` and `patch --fuzz`.

Each case gets a fresh git repository (the original file committed at its path) inside its own sandbox
folder, so a write outside the repository would be seen. lingcode runs in-process (parse_reply +
apply_edits, timed); a sample also runs through the real `lingcode apply` CLI to confirm the same outcome.
The baselines only read unified diffs: SEARCH/REPLACE and whole-file cases are n/a for them.

    .venv/bin/python benchmarks/edits.py [--data FILE] [--limit N] [--cli-sample N] [--failures]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lingcode.edit import FormatError, apply_edits, parse_reply

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "edits-dev.jsonl"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
OUTSIDE_RE = re.compile(r"/tmp/lingcode-eval-outside-[0-9a-f]+")


def make_repo(sandbox: Path, case: dict) -> Path:
    """A fresh git repository in sandbox/repo holding the case's original file, committed."""
    repo = sandbox / "repo"
    target = repo / case["path"]
    target.parent.mkdir(parents=True)
    target.write_bytes(case["original"].encode("utf-8"))
    subprocess.run(
        ["sh", "-c", "git init -q && git add -A && git commit -qm init"],
        cwd=repo,
        env=GIT_ENV,
        check=True,
        capture_output=True,
    )
    return repo


def snapshot(sandbox: Path) -> dict[str, bytes]:
    """Every file under the sandbox except git's own, as bytes."""
    files = {}
    for path in sandbox.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(sandbox).parts:
            files[path.relative_to(sandbox).as_posix()] = path.read_bytes()
    return files


def outside_paths(case: dict) -> list[Path]:
    return [Path(match) for match in set(OUTSIDE_RE.findall(case["reply"]))]


def score(case: dict, sandbox: Path, before: dict[str, bytes], code: int | None) -> str:
    """'ok', 'false' (false apply) or 'miss' (a correct refusal that should have applied, or vice versa)."""
    after = snapshot(sandbox)
    touched_outside = any(path.exists() for path in outside_paths(case))
    if case["expect"] == "reject":
        return "false" if after != before or touched_outside else ("ok" if code != 0 else "false")
    expected = dict(before)
    expected[f"repo/{case['path']}"] = case["expected"].encode("utf-8")
    if after == expected and code == 0 and not touched_outside:
        return "ok"
    return "miss" if after == before else "false"


def run_lingcode(case: dict, repo: Path) -> tuple[int, float, str]:
    """(exit code as the CLI would give it, seconds, reason) for lingcode in-process; 70 marks a crash."""
    start = time.perf_counter()
    try:
        edits = parse_reply(case["reply"])
        result = apply_edits(edits, repo)
        code, reason = (0, "") if result.ok else (4, result.rejection_message())
    except FormatError as exc:
        code, reason = 4, exc.message
    except Exception as exc:  # a crash is what this benchmark counts
        code, reason = 70, f"{type(exc).__name__}: {exc}"
    return code, time.perf_counter() - start, reason


def diff_text(reply: str) -> str:
    """The unified diff in a reply, without fences and prose."""
    lines = reply.split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith(("diff --git", "--- "))), 0)
    body = []
    for line in lines[start:]:
        if line.startswith("```"):
            break
        body.append(line)
    return "\n".join(body).rstrip("\n") + "\n"


def run_tool(name: str, case: dict, repo: Path) -> int:
    patch = diff_text(case["reply"])
    command = (
        ["git", "apply", "--recount", "-"]
        if name == "git apply"
        else ["patch", "-p1", "--fuzz=3", "--batch", "--forward", "--no-backup-if-mismatch", "-s", "-r", "-"]
    )
    done = subprocess.run(
        command, cwd=repo, input=patch.encode(), capture_output=True, env=GIT_ENV, timeout=60
    )
    return 0 if done.returncode == 0 else 4


def run_cli(case: dict, repo: Path) -> int:
    exe = Path(sys.executable).with_name("lingcode")
    done = subprocess.run(
        [str(exe), "apply", "--root", str(repo)],
        input=case["reply"].encode(),
        capture_output=True,
        timeout=120,
    )
    if b"Traceback" in done.stderr:
        return 70
    return done.returncode


def evaluate(case: dict, tool: str, work: Path) -> tuple[str, int, float, str]:
    sandbox = Path(tempfile.mkdtemp(dir=work))
    try:
        repo = make_repo(sandbox, case)
        before = snapshot(sandbox)
        elapsed, reason = 0.0, ""
        if tool == "lingcode":
            code, elapsed, reason = run_lingcode(case, repo)
        elif tool == "cli":
            code = run_cli(case, repo)
        else:
            code = run_tool(tool, case, repo)
        verdict = "crash" if code not in (0, 4) else score(case, sandbox, before, code)
        return verdict, code, elapsed, reason
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
        for path in outside_paths(case):
            shutil.rmtree(path, ignore_errors=True)


def table(rows: dict[tuple[str, str], dict[str, list]], tools: list[str]) -> str:
    """A markdown table: per (noise, format), each tool's correct share, false applies and crashes."""
    head = "| noise | format | n | " + " | ".join(f"{t} ok / false / crash" for t in tools) + " |"
    out = [head, "|" + "---|" * (3 + len(tools))]
    for (noise, fmt), per_tool in sorted(rows.items()):
        cells = []
        for tool in tools:
            verdicts = per_tool.get(tool)
            if not verdicts:
                cells.append("n/a")
                continue
            n = len(verdicts)
            cells.append(
                f"{100 * verdicts.count('ok') / n:.1f}% / {verdicts.count('false')} / "
                f"{verdicts.count('crash')}"
            )
        n = len(per_tool["lingcode"])
        out.append(f"| {noise} | {fmt} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--cli-sample", type=int, default=40, help="cases also run through the real CLI")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--failures", action="store_true", help="print every lingcode miss with its reason")
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    if args.limit:
        cases = cases[: args.limit]
    rows: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    times: list[float] = []
    totals: dict[str, list[str]] = defaultdict(list)
    cli_agree = cli_total = 0
    step = max(1, len(cases) // max(args.cli_sample, 1))
    with tempfile.TemporaryDirectory(prefix="lingcode-edits-") as tmp:
        work = Path(tmp)
        for number, case in enumerate(cases):
            key = (case["noise"], case["format"])
            verdict, code, elapsed, reason = evaluate(case, "lingcode", work)
            rows[key]["lingcode"].append(verdict)
            totals[case["expect"]].append(verdict)
            times.append(elapsed)
            if verdict != "ok" and args.failures:
                print(f"--- {case['id']}: {verdict} (exit {code})\n{reason[:600]}\n", file=sys.stderr)
            if args.cli_sample and number % step == 0:
                cli_total += 1
                cli_agree += evaluate(case, "cli", work)[0] == verdict
            if case["format"] == "udiff" and not args.no_baselines:
                for tool in ("git apply", "patch --fuzz=3"):
                    rows[key][tool].append(evaluate(case, tool, work)[0])
    tools = ["lingcode"] + ([] if args.no_baselines else ["git apply", "patch --fuzz=3"])
    print(table(rows, tools))
    for expect, verdicts in sorted(totals.items()):
        print(
            f"\n{expect} cases: {len(verdicts)}; correct {100 * verdicts.count('ok') / len(verdicts):.2f}%; "
            f"false applies {verdicts.count('false')}; crashes {verdicts.count('crash')}"
        )
    print(
        f"lingcode in-process median {1000 * statistics.median(times):.1f} ms per case "
        f"(p95 {1000 * sorted(times)[int(0.95 * len(times))]:.1f} ms)"
    )
    if cli_total:
        print(f"real CLI sample: {cli_agree}/{cli_total} cases gave the same verdict as in-process")


if __name__ == "__main__":
    main()
