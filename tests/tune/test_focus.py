"""The fix's changed lines are found in a reply, mapped to its tokens, and weighted in the training loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.edit.render import render_edit
from lingcode.edit.types import SearchReplace
from lingcode.errors import ExitCode
from lingcode.tune.chat import TURN_END, Sample, encode
from lingcode.tune.focus import changed_spans, focus_tokens
from tests.tune.conftest import needs_tune
from tests.tune.test_train import tune

BROKEN = "def add(a, b):\n    total = a - b\n    return total\n"
FIXED = "def add(a, b):\n    total = a + b\n    return total\n"


class CharTokenizer:
    """One id per character: every cut is a token border."""

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return ([1] if add_special_tokens else []) + [ord(c) for c in text]


class NewlineIndentTokenizer(CharTokenizer):
    """Like CharTokenizer, but a newline and the spaces after it are one token (as Gemma 3's can be)."""

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids, i = ([1] if add_special_tokens else []), 0
        while i < len(text):
            j = i + 1
            if text[i] == "\n":
                while j < len(text) and text[j] == " ":
                    j += 1
            ids.append(hash(text[i:j]) % 100_000 + 2)
            i = j
        return ids


def test_the_changed_replace_line_is_the_span() -> None:
    reply = render_edit(SearchReplace("m.py", BROKEN, FIXED))
    (start, end), *rest = changed_spans(reply)
    assert not rest and reply[start:end] == "    total = a + b\n"
    assert reply.index("=======") < start  # on the REPLACE side, not the SEARCH copy


def test_an_added_line_and_each_block() -> None:
    removed = "def add(a, b):\n    return total\n"
    reply = render_edit(SearchReplace("m.py", removed, FIXED))
    reply += render_edit(SearchReplace("n.py", BROKEN, FIXED))
    assert [reply[s:e] for s, e in changed_spans(reply)] == ["    total = a + b\n", "    total = a + b\n"]


def test_a_block_that_only_deletes_or_changes_nothing_has_no_span() -> None:
    deletion = SearchReplace("m.py", FIXED, "def add(a, b):\n    return total\n")
    assert changed_spans(render_edit(deletion)) == []
    assert changed_spans(render_edit(SearchReplace("m.py", FIXED, FIXED))) == []
    assert changed_spans("no block here\n") == []


def test_sample_focus_names_the_changed_tokens() -> None:
    reply = render_edit(SearchReplace("m.py", BROKEN, FIXED))
    messages = [{"role": "user", "content": "Fix add."}, {"role": "assistant", "content": reply}]
    sample = encode(CharTokenizer(), messages, seq_len=10_000, focus=True)
    assert sample is not None
    tokens = sample.ids[sample.prompt_tokens :]
    assert "".join(chr(tokens[i]) for i in sample.focus) == "    total = a + b\n"


def test_a_token_across_the_border_gives_no_focus() -> None:
    reply = render_edit(SearchReplace("m.py", BROKEN, FIXED)) + TURN_END
    tokenizer = NewlineIndentTokenizer()
    whole = tokenizer.encode(reply, add_special_tokens=False)
    assert focus_tokens(tokenizer, reply, whole, changed_spans(reply)) is None
    assert focus_tokens(CharTokenizer(), reply, CharTokenizer().encode(reply, False), []) is None


@needs_tune
def test_focus_weight_weights_the_loss(tiny_model: Path) -> None:
    import torch
    from torch.nn.functional import cross_entropy
    from transformers import AutoModelForCausalLM

    from lingcode.tune.trainer import TrainSettings, attach_lora, reply_loss

    model = attach_lora(AutoModelForCausalLM.from_pretrained(str(tiny_model)), TrainSettings(steps=1, rank=2))
    sample = Sample(tuple(range(10, 30)), 12, focus=(1, 2))
    with torch.no_grad():
        plain = reply_loss(model, sample, "cpu").item()
        weighted = reply_loss(model, sample, "cpu", focus_weight=4.0).item()
        ids = torch.tensor([sample.ids])
        each = cross_entropy(model(input_ids=ids).logits[0, 11:-1], ids[0, 12:], reduction="none")
    weights = torch.ones(8)
    weights[[1, 2]] = 4.0
    assert plain == pytest.approx(each.mean().item(), rel=1e-4)
    assert weighted == pytest.approx(((each * weights).sum() / weights.sum()).item(), rel=1e-4)
    assert weighted != pytest.approx(plain, rel=1e-4)


@needs_tune
def test_tune_records_its_focus_weight(sample_repo: Path, tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    assert tune(sample_repo, tiny_model, out, "--steps", "2", "--rank", "2", "--focus-weight", "3") == 0
    train = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["train"]
    assert train["focus_weight"] == 3.0 and 0 < train["focus_samples"] <= train["train_samples"]


def test_a_focus_weight_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["tune", "--steps", "1", "--focus-weight", "0.5"]) == ExitCode.USAGE
    assert "--focus-weight" in capsys.readouterr().err
