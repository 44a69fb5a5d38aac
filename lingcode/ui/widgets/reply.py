"""The model's reply, streamed token by token: a collapsible reasoning section, then the Markdown answer."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

# the loop streams the reasoning section with its markers; the fold's title already says what it is
_MARKERS = re.compile(r"</?(think|reasoning)>")


class Reply(Vertical):
    """One model reply; `append` takes streamed text, `finish` ends the stream."""

    def __init__(self) -> None:
        super().__init__(classes="reply")
        self.reasoning_text = ""
        self.answer_text = ""
        self._reasoning = Static("", classes="reasoning-text", markup=False)
        self._fold = Collapsible(self._reasoning, title="Reasoning", collapsed=False, classes="reasoning")
        self._answer = Markdown("", classes="answer")
        self._stream: MarkdownStream | None = None
        self.finished = False

    def compose(self) -> ComposeResult:
        yield self._fold
        yield self._answer

    def on_mount(self) -> None:
        # hidden until the model actually reasons, so a plain answer has no empty fold above it
        self._fold.display = False

    @property
    def reasoning(self) -> str:
        """The reasoning so far, without its section markers."""
        return _MARKERS.sub("", self.reasoning_text).strip()

    async def append(self, text: str, reasoning: bool = False) -> None:
        """Add streamed text to the reasoning section or to the answer."""
        if reasoning:
            self.reasoning_text += text
            self._fold.display = True
            self._reasoning.update(self.reasoning)
            return
        if not self.answer_text:
            text = text.lstrip("\n")  # the newline after the reasoning section would open the answer blank
            if not text:
                return
        if not self.answer_text and self.reasoning_text:
            # the answer started: fold the reasoning away, one key (Enter on its title) brings it back
            self._fold.collapsed = True
            self._fold.title = f"Reasoning ({len(self.reasoning.split())} words)"
        self.answer_text += text
        if self._stream is None:
            self._stream = Markdown.get_stream(self._answer)
        await self._stream.write(text)

    async def finish(self, text: str | None = None) -> None:
        """End the stream; `text`, when given and different, replaces what streamed (e.g. a resumed reply)."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if text is not None and text != self.answer_text:
            self.answer_text = text
            await self._answer.update(text)
        if self.reasoning_text and not self._fold.collapsed:
            self._fold.collapsed = True
            self._fold.title = f"Reasoning ({len(self.reasoning.split())} words)"
        self.finished = True
