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

    def record(self, event: ModelReplied) -> None:
        """Take in one finished reply."""
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
