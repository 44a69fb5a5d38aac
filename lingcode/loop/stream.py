"""Turn a streamed reply into ModelDelta events, marking the text inside the reasoning section."""

from __future__ import annotations

import re

from lingcode.events import EventSink, ModelDelta

__all__ = ["ReasoningStream", "split_reasoning"]

# the edit parser's reasoning markers (lingcode/edit/parse.py): a leading <think> or <reasoning> section
_OPEN = re.compile(r"^\s*<(think|reasoning)>")
_CLOSE = {"think": "</think>", "reasoning": "</reasoning>"}


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, rest) of a whole reply; the reasoning is '' when the reply does not open with it."""
    match = _OPEN.match(text)
    if match is None:
        return "", text
    close = _CLOSE[match.group(1)]
    end = text.find(close, match.end())
    if end < 0:
        return text[match.end() :].strip(), ""
    return text[match.end() : end].strip(), text[end + len(close) :].lstrip("\n")


class ReasoningStream:
    """Feeds deltas to a sink as ModelDelta events, `reasoning=True` from opening to closing marker."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.text = ""

    def feed(self, delta: str) -> None:
        """Emit one delta (the delta that closes the section still counts as reasoning)."""
        before = self.text
        self.text += delta
        self.sink(ModelDelta(delta, reasoning=self._inside(before, self.text)))

    @staticmethod
    def _inside(before: str, after: str) -> bool:
        match = _OPEN.match(after)
        if match is None:
            # the opening marker may still be arriving
            return bool(after.strip()) and "<think>".startswith(after.strip()[:7])
        return _CLOSE[match.group(1)] not in before[match.end() :]
