"""How each of the loop's events shows on screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lingcode import events
from lingcode.ui.notices import level_of
from lingcode.ui.widgets.context_request import ContextRequestLine

if TYPE_CHECKING:
    from lingcode.ui.app import LingcodeApp

FAIL_HINT = "Type /run to let lingcode fix it until the tests pass, describe the fix, or /undo."


async def show(app: LingcodeApp, event: Any) -> None:
    """Render one loop event; events this UI does not know are ignored (the loop may add new ones)."""
    conversation = app.conversation
    match event:
        case events.ModelDelta(text=text, reasoning=reasoning):
            app.metrics.delta(app.clock())
            if app.busy == "thinking":
                app.busy = "streaming"
                app.refresh_status()
            await conversation.stream(text, reasoning)
        case events.ModelReplied():
            app.metrics.record(event)
            await conversation.close_reply()
            if app.busy == "streaming":
                app.busy = "parsing"
            app.refresh_status()
        case events.EditsApplied(files=()):
            pass  # the user rejected every file: nothing was written, the EditReview already says so
        case events.EditsApplied(files=files, diff=diff):
            app.iteration += 1
            await app.notice(
                f"Applied edits to {', '.join(files)}.", hint="/undo restores them; /diff shows all."
            )
            if app.show_applied_diffs and diff.strip():
                await conversation.add_diff(diff)
        case events.EditsRejected(message=message):
            app.rejections.append(message)
            await app.notice(
                f"Edits not applied: {message}",
                "warning",
                "Nothing was changed; the model hears why with your next message.",
            )
        case events.CheckStarted(command=command):
            app.checks_panel.started(command, app.iteration)
            app.busy = "testing" if app.busy != "running" else app.busy
            app.refresh_status()
        case events.CheckOutput(line=line):
            app.checks_panel.output(line)
        case events.CheckFinished():
            app.checks_panel.finished(event)
            if app.busy == "running" and not event.passed:
                # inside /run each failing round is news; the run's end says how it all went
                await check_notice(app, event)
        case events.ContextRequested():
            await conversation.close_reply()
            await conversation.add(ContextRequestLine(event))
        case events.Notice(message=message, level=level):
            await app.notice(message, level_of(level))
        case events.Finished():
            await _finished_notice(app, event)


async def check_notice(app: LingcodeApp, event: events.CheckFinished) -> None:
    """Say in the conversation how a check run ended, and what to do next."""
    if event.passed:
        await app.notice(
            f"Tests pass ({event.command}).", hint="/commit to keep the change, /undo to drop it."
        )
    elif event.timed_out:
        await app.notice(
            f"Tests timed out ({event.command}).",
            "error",
            "Raise the limit with -c loop.test_timeout=SECONDS, or /test to try again.",
        )
    else:
        tail = _last_lines(event.output, 3)
        suffix = f":\n{tail}" if tail else "."
        await app.notice(f"Tests fail ({event.command}, exit {event.returncode}){suffix}", "error", FAIL_HINT)


async def _finished_notice(app: LingcodeApp, event: events.Finished) -> None:
    files = ", ".join(event.files_changed) or "no files"
    tests = {True: "tests pass", False: "tests still fail", None: "no tests run"}[event.tests_passed]
    level = "info" if event.status in ("passed", "applied", "proposed") else "warning"
    text = f"Run ended ({event.status}) after {event.iterations} iteration(s): {tests}; changed {files}."
    if event.message:
        text += f" {event.message}"
    hint = "/diff shows the changes, /undo restores the files." if event.files_changed else ""
    await app.notice(text, level, hint)


def _last_lines(text: str, count: int) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(f"  {line}" for line in lines[-count:])
