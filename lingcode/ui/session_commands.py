"""What each input does: a task for the model, or one of the slash commands, as jobs on the Session."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from lingcode.events import CheckFinished
from lingcode.ui.commands import Command, help_text
from lingcode.ui.events_view import check_notice
from lingcode.ui.widgets.edit_review import EditReview

if TYPE_CHECKING:
    from lingcode.ui.app import LingcodeApp
    from lingcode.ui.backend import SessionLike

RESUMED_REPLIES = 3
"""How many of a resumed session's replies are shown again."""
BUSY_HINT = "Press Esc to stop it first, or wait for it to finish."


class SessionCommands:
    """Turns inputs into Session calls run as jobs, and their results into what the screen shows."""

    def __init__(self, app: LingcodeApp) -> None:
        self.app = app
        self.proposal: Any = None
        """The proposal under review, if any."""

    # ---- helpers

    async def _session(self, what: str) -> SessionLike | None:
        """The open session, or None after telling the user why `what` cannot run now."""
        app = self.app
        busy = app.user_busy()
        if busy:
            await app.notice(f"lingcode is busy ({busy}); {what} has to wait.", "warning", BUSY_HINT)
            return None
        if app.backend is None:
            await app.notice(
                "There is no model connection yet.",
                "warning",
                "Wait for it to open, or start the server and press Ctrl+R to reconnect.",
            )
            return None
        if self.proposal is not None:
            await app.notice(
                "Edits are waiting for your review.",
                "warning",
                "Accept (a) or reject (r) them in the review above first.",
            )
            self._focus_review()
            return None
        return app.backend.session

    def _focus_review(self) -> None:
        reviews = [r for r in self.app.query(EditReview) if not r.decided]
        if reviews:
            reviews[-1].focus()

    def refresh_context(self, task: str = "", show: bool = False) -> None:
        """Rebuild the context panel in a worker; with `show`, also summarise it in the conversation."""
        backend = self.app.backend
        if backend is None:
            return
        session = backend.session

        async def then(context: Any) -> None:
            files = list(getattr(context, "files", []))
            self.app.context_panel.show(files, int(getattr(context, "tokens", 0)))
            if show:
                lines = [f"- `{f.path}`: {f.reason}{'' if f.included else ' (left out)'}" for f in files]
                body = "\n".join(lines) or "- (no files)"
                await self.app.conversation.add_markdown(f"**Context** ({context.tokens:,} tokens)\n\n{body}")

        self.app.run_job("context", lambda: session.context(task), then)

    async def show_history(self, history: list[dict[str, str]]) -> None:
        """Show a resumed conversation."""
        conversation = self.app.conversation
        # the user's turns are stored as rendered prompts (context and all); the replies read as they were
        replies = [m.get("content", "") for m in history if m.get("role") == "assistant"]
        for content in replies[-RESUMED_REPLIES:]:
            await conversation.show_reply(content)
        await self.app.notice(
            f"Resumed the last session in this repository ({len(replies)} earlier repl(ies)).",
            hint="Send a message to go on where you left off, or /clear to start afresh.",
        )

    # ---- a task

    async def ask(self, text: str) -> None:
        """Send a task to the model; its edits are reviewed (or applied) when the reply is complete."""
        session = await self._session("your message")
        if session is None:
            return
        await self.app.conversation.add_user(text)
        self.app.rejections = []
        cancel = threading.Event()
        self.app.metrics.start_turn(self.app.clock())
        self.app.run_job("thinking", lambda: session.ask(text, cancel), self._on_proposal, cancel)

    async def _on_proposal(self, proposal: Any) -> None:
        app = self.app
        await app.conversation.close_reply()
        if app.stopped:
            await app.notice(
                "Stopped.", "info", "Send a message to go on; the model sees what it had written."
            )
            return
        if proposal.error and proposal.error not in app.rejections:
            await app.notice(
                f"The reply's edits could not be used: {proposal.error}",
                "warning",
                "The model is told why with your next message; say e.g. 'try again'.",
            )
        diffs = dict(proposal.diffs or {})
        if not diffs:
            self._save_quietly()
            return
        if app.config.loop.auto_apply:
            self._apply(proposal, None, reviewed=False)
            return
        self.proposal = proposal
        review = EditReview(diffs)
        await app.conversation.add(review)
        review.focus()

    async def apply_chosen(self, accepted: list[str]) -> None:
        """Apply the files the user accepted in the review; the rest are reported to the model."""
        proposal, self.proposal = self.proposal, None
        if proposal is None:
            return
        self._apply(proposal, accepted, reviewed=True)

    def _apply(self, proposal: Any, files: list[str] | None, *, reviewed: bool) -> None:
        app = self.app
        session = app.backend.session if app.backend else None
        if session is None:
            return
        app.show_applied_diffs = not reviewed

        async def then(result: Any) -> None:
            app.show_applied_diffs = True
            if files != [] and getattr(result, "ok", True):  # nothing was written otherwise
                self.test(after_edit=True)

        app.run_job("applying", lambda: session.apply(proposal, files), then)

    # ---- checks and the loop

    def test(self, after_edit: bool = False) -> None:
        """Run the checks in a worker; the events fill the checks panel.

        After an edit the context panel is rebuilt too (edited files are now "in diff"); tests alone change
        nothing it shows.
        """
        backend = self.app.backend
        if backend is None:
            return
        session = backend.session
        cancel = threading.Event()

        async def then(result: Any) -> None:
            # one notice for the whole run (related tests first, then the full command): the final word
            await check_notice(self.app, _finished(result))
            self._save_quietly()
            if after_edit:
                self.refresh_context()

        self.app.run_job("testing", lambda: session.run_checks(cancel), then, cancel)

    async def run_loop(self, text: str) -> None:
        """/run: let the loop edit and test until green, applying as it goes."""
        session = await self._session("/run")
        if session is None:
            return
        await self.app.conversation.add_user(f"/run {text}".strip())
        cancel = threading.Event()

        async def then(_: Any) -> None:
            self._save_quietly()
            self.refresh_context()

        self.app.run_job("running", lambda: session.run_until_green(text, cancel), then, cancel)

    def _save_quietly(self) -> None:
        backend = self.app.backend
        if backend is not None:
            self.app.run_job("saving", backend.session.save)

    # ---- slash commands

    async def run(self, command: Command) -> None:
        """Run a parsed slash command."""
        if command.name == "help":
            await self.app.conversation.add_markdown(help_text())
            return
        if command.name == "run":
            await self.run_loop(command.text)
            return
        session = await self._session(f"/{command.name}")
        if session is None:
            return
        handler = getattr(self, f"_cmd_{command.name}")
        await handler(session, command)

    async def _cmd_add(self, session: SessionLike, command: Command) -> None:
        if not command.args:
            await self.app.notice("/add needs one or more paths.", "warning", "For example: /add src/app.py")
            return
        await self._change_files(session.add_files, list(command.args), "Added", "none of those were added")

    async def _cmd_drop(self, session: SessionLike, command: Command) -> None:
        if not command.args:
            await self.app.notice(
                "/drop needs one or more paths.", "warning", "For example: /drop src/app.py"
            )
            return
        await self._change_files(
            session.drop_files, list(command.args), "Dropped", "none of those were in context"
        )

    async def drop(self, paths: list[str]) -> None:
        """Drop files from the context."""
        session = await self._session("/drop")
        if session is None:
            return
        await self._change_files(session.drop_files, paths, "Dropped", "none of those were in context")

    async def _change_files(self, call: Any, paths: list[str], verb: str, none_msg: str) -> None:
        async def then(changed: list[str]) -> None:
            if changed:
                await self.app.notice(f"{verb} {', '.join(changed)}.")
            else:
                await self.app.notice(f"Nothing changed: {none_msg}.", "warning")
            self.refresh_context()

        self.app.run_job("context", lambda: call(paths), then)

    async def _cmd_context(self, session: SessionLike, command: Command) -> None:
        self.refresh_context(command.text, show=True)

    async def _cmd_test(self, session: SessionLike, command: Command) -> None:
        self.test()

    async def _cmd_diff(self, session: SessionLike, command: Command) -> None:
        async def then(diff: str) -> None:
            if diff.strip():
                await self.app.conversation.add_diff(diff)
            else:
                await self.app.notice("No changes since lingcode's checkpoint.")

        self.app.run_job("diff", session.diff, then)

    async def _cmd_undo(self, session: SessionLike, command: Command) -> None:
        async def then(message: str) -> None:
            await self.app.notice(message, "info", "The files are as they were before lingcode's edits.")
            self.refresh_context()

        self.app.run_job("undoing", session.undo, then)

    async def _cmd_commit(self, session: SessionLike, command: Command) -> None:
        async def then(sha: str) -> None:
            await self.app.notice(f"Committed {sha[:12]}.")

        message = command.text or None
        self.app.run_job("committing", lambda: session.commit(message), then)

    async def _cmd_model(self, session: SessionLike, command: Command) -> None:
        backend = self.app.backend
        if backend is not None:
            about = f"\n\n{backend.about}" if backend.about else ""
            await self.app.conversation.add_markdown(
                f"**Model** `{backend.model}` at `{backend.server}`{about}"
            )

    async def _cmd_clear(self, session: SessionLike, command: Command) -> None:
        async def then(_: Any) -> None:
            self.app.iteration = 0
            await self.app.conversation.clear()
            await self.app.notice("Conversation cleared; the files in context stay.")

        self.app.run_job("clearing", session.clear, then)


def _finished(result: Any) -> CheckFinished:
    """The loop's CheckResult in the shape of the event the notice is written from."""
    return CheckFinished(
        command=str(result.command),
        passed=bool(result.passed),
        returncode=result.returncode,
        timed_out=bool(result.timed_out),
        duration_s=float(result.duration_s),
        output=str(result.output),
    )
