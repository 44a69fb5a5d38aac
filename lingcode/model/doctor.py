"""`lingcode doctor`: is the model server there, what is it, and how fast does it answer?"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lingcode.model.client import ModelClient
from lingcode.model.reply import Constraint

PROBE_MESSAGES = [{"role": "user", "content": "Count from 1 to 30, separated by spaces."}]
PROBE_TOKENS = 48
YES_NO = Constraint('root ::= "yes" | "no"')


@dataclass(frozen=True)
class DoctorReport:
    """What doctor found; also its --json output."""

    base_url: str
    engine: str
    model: str
    context_window: int
    supports_grammar: bool
    grammar_works: bool | None
    """Whether a yes/no grammar held in a real completion; None where the server takes no grammar."""
    ttft_s: float
    tokens_per_s: float
    completion_tokens: int
    duration_s: float
    finish_reason: str | None
    adapter: dict[str, Any] | None = None
    """The LoRA adapter the embedded server applies (lingcode.tune.adapter_check.Adapter.as_json())."""
    adapter_known: bool = False
    """Whether lingcode started the server and so knows its adapter (None then means: the base alone)."""

    def as_json(self) -> dict[str, object]:
        """The report as a JSON-ready dict."""
        return {"ok": True, **asdict(self)}

    def lines(self) -> list[str]:
        """The report for people, one fact per line."""
        grammar = "not supported" if not self.supports_grammar else "supported"
        adapter = []
        if self.adapter_known:
            adapter = [f"adapter         {self._adapter_text()}"]
        if self.grammar_works is not None:
            grammar += ", checked" if self.grammar_works else ", but a constrained reply broke it"
        return [
            f"server          {self.base_url} ({self.engine})",
            f"model           {self.model}",
            *adapter,
            f"context window  {self.context_window} tokens",
            f"grammar         {grammar}",
            f"first token     {self.ttft_s:.2f} s",
            f"speed           {self.tokens_per_s:.1f} tokens/s "
            f"({self.completion_tokens} tokens in {self.duration_s:.2f} s)",
        ]

    def _adapter_text(self) -> str:
        if self.adapter is None:
            return "none (the base model alone)"
        trained = [f"{self.adapter['steps']} steps"] if self.adapter.get("steps") is not None else []
        if self.adapter.get("data_sha256"):
            trained.append(f"data sha256 {str(self.adapter['data_sha256'])[:12]}")
        where = self.adapter.get("gguf") or self.adapter.get("source")
        return f"{where}" + (f" ({', '.join(trained)})" if trained else "")


def diagnose(
    client: ModelClient, adapter: dict[str, Any] | None = None, adapter_known: bool = False
) -> DoctorReport:
    """Ask the server who it is, then time a short streamed completion (and a constrained one)."""
    info = client.info()
    reply = client.complete(PROBE_MESSAGES, on_delta=lambda _: None, max_tokens=PROBE_TOKENS)
    grammar_works: bool | None = None
    if info.supports_grammar:
        answer = client.complete(
            [{"role": "user", "content": "Is water wet?"}], constraint=YES_NO, max_tokens=4
        )
        grammar_works = answer.text.strip() in ("yes", "no")
    return DoctorReport(
        base_url=client.base_url,
        engine=info.engine,
        model=info.model,
        context_window=info.context_window,
        supports_grammar=info.supports_grammar,
        grammar_works=grammar_works,
        ttft_s=round(reply.ttft_s, 4),
        tokens_per_s=round(reply.tokens_per_s, 2),
        completion_tokens=reply.usage.completion_tokens,
        duration_s=round(reply.duration_s, 4),
        finish_reason=reply.finish_reason,
        adapter=adapter,
        adapter_known=adapter_known,
    )
