"""Run aider's repository map once over every tracked file of a tree: the peer column of repomap_speed.py.

Runs under aider's own Python (a separate virtual environment with `aider-chat` and
`tree-sitter-language-pack<1` installed), never lingcode's. No chat files, a TOKENS-token map (default
4,096, like `lingcode map --budget 4096`; `map_mul_no_files=1`, so aider does not widen it when no file is
in the chat), tags cached in CACHE (outside the tree, so the cache never shows up as untracked files of the
tree being measured).

    AIDER_PYTHON benchmarks/aider_repomap.py ROOT CACHE [TOKENS]

Prints the map on standard output; its length in characters and the seconds `get_repo_map` took go to
standard error.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

# aider's model registry would otherwise try to fetch its price list from the network at import
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> int:
    """Map the tree at argv[1] with aider's RepoMap, caching tags under argv[2], in argv[3] tokens."""
    from aider.io import InputOutput
    from aider.models import Model
    from aider.repomap import RepoMap

    root, cache = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tokens = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    files = [os.path.join(root, p) for p in listed.decode("utf-8", "surrogateescape").split("\0") if p]
    RepoMap.TAGS_CACHE_DIR = cache  # an absolute path: aider joins it to the root
    with contextlib.redirect_stdout(sys.stderr):
        io = InputOutput(pretty=False, yes=True, fancy_input=False)
        model = Model("gpt-4o")
    repo_map = RepoMap(
        map_tokens=tokens, root=root, main_model=model, io=io, map_mul_no_files=1, refresh="always"
    )
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # aider's notices ("Initial repo scan ...") are not the map
        text = repo_map.get_repo_map([], files) or ""
    sys.stdout.write(text)
    print(len(text), f"{time.perf_counter() - start:.2f}", file=sys.stderr)
    return 0 if text else 1


if __name__ == "__main__":
    sys.exit(main())
