"""The numbers in the status bar, kept up to date from the loop's events."""

from __future__ import annotations

from dataclasses import dataclass, field

from lingcode.events import ModelReplied, Usage


@dataclass
class Metrics:
    """Speed and usage of the model over the session; `show_timings` False hides the measured numbers."""

    model: str = ""
    server: str = ""
    tokens_per_s: float | None = None
    ttft_s: float | None = None
    cached_share: float | None = None
    usage: Usage = field(default_factory=Usage)
    show_timings: bool = True
    _asked_at: float | None = field(default=None, repr=False)
    _first_at: float | None = field(default=None, repr=False)
    _deltas: int = field(default=0, repr=False)

    def start_turn(self, now: float) -> None:
        """A request went to the model at `now`; speed and TTFT are measured live from its first delta."""
        self._asked_at, self._first_at, self._deltas = now, None, 0

    def delta(self, now: float) -> None:
        """A streamed delta arrived (llama.cpp and vLLM send about one token each)."""
        self._deltas += 1
        if self._first_at is None:
            self._first_at = now
            if self._asked_at is not None:  # inside /run the loop asks; only the speed is measured live
                self.ttft_s = now - self._asked_at
        elif now > self._first_at:
            self.tokens_per_s = (self._deltas - 1) / (now - self._first_at)

    def record(self, event: ModelReplied) -> None:
        """Take in one finished reply (its measured numbers replace the live estimates)."""
        self._asked_at = self._first_at = None
        self._deltas = 0
        self.usage = self.usage + event.usage
        self.tokens_per_s = event.tokens_per_s
        self.ttft_s = event.ttft_s
        prompt = event.usage.prompt_tokens
        self.cached_share = event.usage.cached_tokens / prompt if prompt else None

    def render(self, elapsed_s: float) -> str:
        """The status line, in plain text with Rich markup for emphasis."""
        where = f"[b]{_esc(self.model) or 'no model'}[/b] @ {_esc(self.server) or '…'}"
        speed = "– tok/s"
        if self.show_timings and self.tokens_per_s:
            rate = self.tokens_per_s
            speed = f"{rate:.1f} tok/s" if rate < 100 else f"{rate:,.0f} tok/s"
        ttft = f"TTFT {self.ttft_s:.2f}s" if self.show_timings and self.ttft_s is not None else "TTFT –"
        cached = f"cache {self.cached_share:.0%}" if self.cached_share is not None else "cache –"
        total = self.usage.prompt_tokens + self.usage.completion_tokens
        minutes, seconds = divmod(int(elapsed_s), 60)
        return f"{where} │ {speed} │ {ttft} │ {cached} │ {total:,} tok │ {minutes:02d}:{seconds:02d}"


def _esc(text: str) -> str:
    # model names may hold square brackets, which Rich would read as markup
    return text.replace("[", r"\[")
