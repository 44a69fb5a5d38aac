"""Calibrate the token estimate (lingcode/context/tokens.py) against a real tokenizer.

Tokenizes a varied corpus with the embedded Gemma 3 GGUF's own tokenizer (llama.cpp, vocabulary only) and
prints, per file type, the distribution of UTF-8 bytes per token (median, 5th and 95th percentiles) and the
share of files whose estimate (`estimate_tokens`) is at least the real count, which is what the renderer
relies on to stay within a budget.

Corpus: this repository's tracked .py/.md/.j2/.scm files, and a deterministic sample of files of common types
from one materialised tree per repository of the SWE-bench Lite set (benchmarks/localize.py's layout).

    python benchmarks/tokens_calibration.py [--work DIR] [--per-type N] [--model GGUF]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from localize import WORK

from lingcode.context.files import classify
from lingcode.context.tokens import BYTES_PER_TOKEN, estimate_tokens

HERE = Path(__file__).resolve().parents[1]
OWN_TYPES = (".py", ".md", ".j2", ".scm")
BENCH_TYPES = (
    ".py",
    ".rst",
    ".txt",
    ".md",
    ".c",
    ".h",
    ".js",
    ".css",
    ".html",
    ".json",
    ".toml",
    ".cfg",
    ".yml",
)
MIN_BYTES = 64  # shorter files say more about rounding than about the tokenizer
MAX_BYTES = 200_000  # llama.cpp tokenizes ~100 KB/s here; larger files are data, not what prompts carry


def load_tokenizer(model: Path | None) -> object:
    """llama.cpp's tokenizer of the GGUF (the embedded Gemma 3 model unless one is named)."""
    from llama_cpp import Llama

    from lingcode.model.gguf import embedded_model_path

    path = model or embedded_model_path()
    return Llama(model_path=str(path), vocab_only=True, verbose=False)


def count(llm: object, text: str) -> int:
    """The real token count of text (no BOS, special-token text counted as plain text)."""
    tokenize = getattr(llm, "tokenize")  # noqa: B009
    return len(tokenize(text.encode("utf-8"), add_bos=False, special=False))


def corpus(work: Path, per_type: int) -> Iterator[tuple[str, str, Path]]:
    """(source, file type, path) for the repository's own files and a sample of the benchmark trees."""
    listed = subprocess.run(["git", "ls-files"], cwd=HERE, capture_output=True, text=True, check=True)
    for rel in listed.stdout.splitlines():
        if Path(rel).suffix in OWN_TYPES and not rel.startswith("tests/context/fixtures"):
            yield "lingcode", Path(rel).suffix, HERE / rel
    trees: dict[str, Path] = {}
    for tree in sorted(work.glob("*@*")):
        trees.setdefault(tree.name.split("@")[0], tree)  # one checkout per repository
    picked: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for tree in trees.values():
        for path in tree.rglob("*"):
            if (
                path.suffix in BENCH_TYPES
                and ".git" not in path.parts
                and path.is_file()
                and MIN_BYTES <= path.stat().st_size <= MAX_BYTES
            ):
                key = hashlib.sha1(str(path.relative_to(work)).encode()).hexdigest()
                picked[path.suffix].append((key, path))
    for suffix, items in sorted(picked.items()):
        for _key, path in sorted(items)[:per_type]:
            yield "swe-bench", suffix, path


def measure(llm: object, files: Iterator[tuple[str, str, Path]]) -> dict[str, list[tuple[int, int, bool]]]:
    """Per file type: (bytes, real tokens, estimate >= real count) for each file lingcode would send."""
    out: dict[str, list[tuple[int, int, bool]]] = defaultdict(list)
    for source, suffix, path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        # only what the context engine would send: it lists binary, minified or generated files by path
        if len(data) < MIN_BYTES or classify(path.name, data, MAX_BYTES):
            continue
        text = data.decode("utf-8")
        real = count(llm, text)
        out[f"{source} {suffix}"].append((len(data), real, estimate_tokens(text) >= real))
    return out


def table(rows: dict[str, list[tuple[int, int, bool]]]) -> list[str]:
    """The markdown table of the distribution, per type and overall."""
    lines = [
        f"bytes per token with the Gemma 3 tokenizer; estimate = bytes / {BYTES_PER_TOKEN}",
        "",
        "| files | n | median | p5 | p95 | min | all bytes / all tokens | estimate >= real |",
        "|---|---|---|---|---|---|---|---|",
    ]
    everything = [item for items in rows.values() for item in items]
    for name, items in [*sorted(rows.items()), ("all", everything)]:
        ratios = np.array([size / max(real, 1) for size, real, _ in items])
        pooled = sum(size for size, _, _ in items) / max(sum(real for _, real, _ in items), 1)
        share = 100.0 * sum(ok for _, _, ok in items) / len(items)
        p5, p95 = np.percentile(ratios, [5, 95])
        lines.append(
            f"| {name} | {len(items)} | {statistics.median(ratios):.2f} | {p5:.2f} | {p95:.2f}"
            f" | {ratios.min():.2f} | {pooled:.2f} | {share:.1f}% |"
        )
    ratios = np.array([size / max(real, 1) for size, real, _ in everything])
    lines.append("")
    for q in (5, 1):
        lines.append(
            f"a constant of {np.percentile(ratios, q):.2f} bytes/token bounds {100 - q}% of all files"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Tokenize the corpus and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--per-type", type=int, default=60, help="benchmark-tree files per type")
    parser.add_argument("--model", type=Path, default=None, help="a GGUF (default: the embedded Gemma 3)")
    args = parser.parse_args(argv)
    llm = load_tokenizer(args.model)
    print("\n".join(table(measure(llm, corpus(args.work, args.per_type)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
