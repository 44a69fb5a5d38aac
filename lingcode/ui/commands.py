"""The slash commands of the interactive session: their table, parsing, and completion."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from textual.suggester import Suggester

from lingcode.errors import UsageError


@dataclass(frozen=True)
class CommandSpec:
    """One slash command: how to call it and what it does."""

    name: str
    usage: str
    help: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("add", "/add PATH...", "add files to the context"),
    CommandSpec("drop", "/drop PATH...", "drop files you added from the context"),
    CommandSpec("context", "/context [TASK]", "show the files in context and why"),
    CommandSpec("test", "/test", "run the tests now"),
    CommandSpec("run", "/run TASK", "let lingcode edit and test until the tests pass"),
    CommandSpec("diff", "/diff", "show everything lingcode changed"),
    CommandSpec("undo", "/undo", "restore the files to how they were before lingcode's edits"),
    CommandSpec("commit", "/commit [MESSAGE]", "commit the changes (a message is written if you give none)"),
    CommandSpec("model", "/model", "show the model and the server"),
    CommandSpec("clear", "/clear", "forget the conversation (files stay in context)"),
    CommandSpec("help", "/help", "list commands and keys"),
)

BY_NAME = {spec.name: spec for spec in COMMANDS}


@dataclass(frozen=True)
class Command:
    """A parsed command line: the command's name, its raw argument text and its words."""

    name: str
    text: str
    args: tuple[str, ...]


def parse_command(line: str) -> Command:
    """Parse "/name args..." into a Command; an unknown name or bad quoting is a UsageError."""
    head, _, rest = line.strip()[1:].partition(" ")
    name = head.lower()
    if name not in BY_NAME:
        raise UsageError(f"unknown command /{head}; type /help for the list")
    try:
        words = tuple(shlex.split(rest))
    except ValueError as exc:
        raise UsageError(f"/{name}: {exc}") from None
    return Command(name, rest.strip(), words)


def complete(value: str, paths: tuple[str, ...] = ()) -> str | None:
    """The completed input for a partial command line, or None: command names, and paths for /add, /drop."""
    if not value.startswith("/"):
        return None
    head, space, rest = value[1:].partition(" ")
    if not space:
        names = [spec.name for spec in COMMANDS if spec.name.startswith(head.lower())]
        return f"/{names[0]} " if names and head else None
    if head not in ("add", "drop") or not paths:
        return None
    done, _, partial = rest.rpartition(" ")
    if not partial:
        return None
    match = next((p for p in paths if p.startswith(partial) and p != partial), None)
    if match is None:
        return None
    prefix = f"/{head} {done} " if done else f"/{head} "
    return prefix + match


class CommandSuggester(Suggester):
    """Suggests the rest of a slash command (and of file paths after /add and /drop) as grey text."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.paths: tuple[str, ...] = ()
        """Repository files offered after /add and /drop; the app fills it in."""

    async def get_suggestion(self, value: str) -> str | None:
        """Return the completed value or None."""
        return complete(value, self.paths)


def help_text() -> str:
    """The /help text, as Markdown."""
    rows = "\n".join(f"| `{spec.usage}` | {spec.help} |" for spec in COMMANDS)
    keys = (
        "| `Enter` | send | `Esc` | stop the model now |\n"
        "| `Tab` | complete a command | `Up`/`Down` | earlier inputs |\n"
        "| `F2` | show/hide the side panels | `Ctrl+C` twice | quit |\n"
        "| `a` / `r` | accept / reject all edits (review) | `Space`, `Enter` | pick files, apply (review) |\n"
        "| `d` / `a` | drop / add a file (context panel) | `Ctrl+R` | reconnect to the model |"
    )
    return f"| command | what it does |\n|---|---|\n{rows}\n\n| key | | key | |\n|---|---|---|---|\n{keys}\n"
