"""The pre-commit hook's own command line, `lingcode review --hook --staged [PATHS]`, run without click.

git runs the hook on every commit, and importing click and building the command tree is a tenth of the hook's
start-up. This exact form (what `lingcode hook install` writes and what `.pre-commit-hooks.yaml` runs, with
`--fail-closed`/`--fail-open` and the file names pre-commit passes) is recognised here and runs the same
function with the same settings as the `review` command (lingcode/commands/review.py) would; any other
command line, or anything here this parser does not know, goes through click.
"""

from __future__ import annotations

import os
from typing import NamedTuple

_FLAGS = {"--hook", "--staged", "--fail-closed", "--fail-open"}


class HookCall(NamedTuple):
    """What the hook's command line asked for."""

    paths: tuple[str, ...] = ()
    fail_closed: bool | None = None


def parse(args: list[str]) -> HookCall | None:
    """The hook call when `args` is the hook's command line, else None (click parses it)."""
    if not args or args[0] != "review" or os.environ.get("_LINGCODE_COMPLETE"):
        return None  # not the hook, or click's shell-completion mode
    rest = args[1:]
    if "--hook" not in rest or "--staged" not in rest:
        return None
    paths: list[str] = []
    fail_closed: bool | None = None
    for arg in rest:
        if arg in ("--fail-closed", "--fail-open"):
            fail_closed = arg == "--fail-closed"  # the last one wins, as with click's flag pair
        elif arg.startswith("-") and arg not in _FLAGS:
            return None  # another option, `--`, or `-`: click's rules apply
        elif arg not in _FLAGS:
            paths.append(arg)
    return HookCall(tuple(paths), fail_closed)


def run(call: HookCall) -> int:
    """Review the staged change as `lingcode review --hook --staged` does; the exit code."""
    from lingcode.commands.common import resolve_root
    from lingcode.config import load_config
    from lingcode.run.review import ReviewOptions, review

    repo = resolve_root(None)
    config = load_config(root=repo, overrides=[], flags={"model.base_url": None, "model.model": None})
    options = ReviewOptions(staged=True, paths=list(call.paths), hook=True, fail_closed=call.fail_closed)
    return review(repo, config, options)
