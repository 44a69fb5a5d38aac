"""The conversation: the user's messages, the model's replies, diffs, notices and edit reviews, in order."""

from __future__ import annotations

import re

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Markdown

from lingcode.ui.widgets.diff_view import DiffView
from lingcode.ui.widgets.notice_block import NoticeBlock
from lingcode.ui.widgets.reply import Reply
from lingcode.ui.widgets.user_message import UserMessage

_REASONING = re.compile(r"^\s*<(think|reasoning)>.*?</\1>", re.DOTALL)


class Conversation(VerticalScroll):
    """A scrolling log that stays at the bottom while text streams in (unless the user scrolls up)."""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current: Reply | None = None

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, widget: Widget) -> Widget:
        """Append any widget at the end."""
        await self.mount(widget)
        return widget

    async def add_user(self, text: str) -> None:
        """Show a message the user sent."""
        await self.close_reply()
        await self.mount(UserMessage(text))

    async def add_notice(self, message: str, level: str = "info", hint: str = "") -> NoticeBlock:
        """Show a notice (an error with `hint` saying what to do next)."""
        block = NoticeBlock(message, level, hint)
        await self.mount(block)
        return block

    async def add_markdown(self, text: str, classes: str = "") -> None:
        """Show a block of Markdown (help, context summaries, resumed replies)."""
        await self.mount(Markdown(text, classes=f"info-markdown {classes}".strip()))

    async def add_diff(self, diff: str) -> None:
        """Show a unified diff, coloured."""
        await self.mount(DiffView(diff))

    async def show_reply(self, text: str) -> None:
        """Show a whole reply at once (from a resumed session)."""
        await self.close_reply()
        reply = Reply()
        await self.mount(reply)
        match = _REASONING.match(text)
        if match is not None:
            await reply.append(match.group(0), reasoning=True)
            text = text[match.end() :]
        await reply.append(text)
        await reply.finish()

    async def stream(self, text: str, reasoning: bool) -> None:
        """Add streamed model text to the open reply, opening one if none is."""
        if self.current is None:
            self.current = Reply()
            await self.mount(self.current)
        await self.current.append(text, reasoning)

    async def close_reply(self, text: str | None = None) -> None:
        """Finish the open reply, if any."""
        if self.current is not None:
            reply, self.current = self.current, None
            await reply.finish(text)

    async def clear(self) -> None:
        """Remove everything."""
        self.current = None
        await self.remove_children()
