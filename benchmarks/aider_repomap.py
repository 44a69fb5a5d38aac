"""Run aider's repository map once over every tracked file of a tree: the peer column of repomap_speed.py.

Runs under aider's own Python (a separate virtual environment with `aider-chat` installed), never
lingcode's. No chat files, a 4,096-token map (like `lingcode map --budget 4096`), tags cached in CACHE
(outside the tree, so the cache never shows up as untracked files of the tree being measured).

    AIDER_PYTHON benchmarks/aider_repomap.py ROOT CACHE

Prints the map's length in characters and the seconds `get_repo_map` took, on one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

# aider's model registry would otherwise try to fetch its price list from the network at import
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> int:
    """Map the tree at argv[1] with aider's RepoMap, caching tags under argv[2]."""
    from aider.io import InputOutput
    from aider.models import Model
    from aider.repomap import RepoMap

    root, cache = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    files = [os.path.join(root, p) for p in listed.decode("utf-8", "surrogateescape").split("\0") if p]
    RepoMap.TAGS_CACHE_DIR = cache  # an absolute path: aider joins it to the root
    io = InputOutput(pretty=False, yes=True, fancy_input=False)
    repo_map = RepoMap(
        map_tokens=4096, root=root, main_model=Model("gpt-4o"), io=io, map_mul_no_files=1, refresh="always"
    )
    start = time.perf_counter()
    text = repo_map.get_repo_map([], files) or ""
    print(len(text), f"{time.perf_counter() - start:.2f}")
    return 0 if text else 1


if __name__ == "__main__":
    sys.exit(main())
