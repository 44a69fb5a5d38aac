"""The `lingcode` command's entry point, and the one place that turns errors into a single line and an exit
code (see lingcode.errors for the codes).

The command line is a click group (lingcode.commands.group), loaded only when needed: the pre-commit hook's
own invocation is recognised first and runs without click (lingcode.commands.hook_fast), since git pays for
the hook's start-up on every commit.
"""

from __future__ import annotations

import gc
import os
import sys

from lingcode.commands import hook_fast
from lingcode.errors import ExitCode, LingcodeError

# name -> module under lingcode.commands exposing `command`; imported only when used, so that a hook
# invocation does not pay for Textual or tree-sitter imports it never needs.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "Fix a task headlessly: context, model, edits, tests, repeat."),
    "batch": ("batch", "Run many tasks from a JSONL file concurrently, each in its own worktree."),
    "undo": ("undo", "Restore the work tree to how it was before lingcode's last run."),
    "export-sft": ("export_sft", "Export successful runs as chat-format fine-tuning data."),
    "context": ("context", "Print the context lingcode would send for a task."),
    "map": ("map", "Print the ranked repository map."),
    "apply": ("apply", "Apply a model reply read on stdin, all or nothing."),
    "grammar": ("grammar", "Print the decoding grammar lingcode would send for some files."),
    "review": ("review", "Review a diff (staged, a range, or paths) with the model."),
    "hook": ("hook", "Install, remove or inspect lingcode's pre-commit hook."),
    "serve": ("serve", "Start a model server: embedded llama.cpp or vLLM."),
    "doctor": ("doctor", "Check the model server: reachability, model, context, speed."),
    "tune": ("tune", "Fine-tune the model on this repository's own code (`tune data`: its training tasks)."),
}


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with a documented code, never a traceback."""
    if hook_fast.parse(sys.argv[1:] if argv is None else argv) is None:
        sys.exit(run_cli(argv))
    # The pre-commit hook is a short process that git starts on every commit. Its imports make some 26,000
    # container objects, which the cycle collector would walk again and again while it runs (about 4% of its
    # CPU) and several times more at exit (about 13%), to find no garbage: collect nothing, and freeze what
    # exists so the interpreter's collections at exit skip it (benchmarks/hook.py).
    gc.disable()
    code = run_cli(argv)
    gc.freeze()
    sys.exit(code)


def run_cli(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (used by main and by in-process tests)."""
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    try:
        hook_call = hook_fast.parse(sys.argv[1:] if argv is None else argv)
        if hook_call is not None:
            return hook_fast.run(hook_call)
        from lingcode.commands import group

        return group.run(argv)
    except LingcodeError as exc:
        _say(str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _say("interrupted")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head); point it at devnull so the interpreter's flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    except Exception as exc:
        if verbose:
            import traceback  # only here: it costs the hook's start-up about 10 ms (benchmarks/hook.py)

            traceback.print_exc()
        _say(f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)")
        return int(ExitCode.INTERNAL)


def _say(message: str) -> None:
    line = f"lingcode: {message}"
    if "click" in sys.modules or "\x1b" in line:
        # click.echo strips terminal escapes when stderr is no terminal: it writes wherever click is loaded
        # anyway (every command but the hook's) and wherever there is an escape to strip
        import click

        click.echo(line, err=True)
    else:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
