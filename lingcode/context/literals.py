"""Quoted text of a task found verbatim in string literals of the source: messages and option names.

An issue often quotes what the program printed (`WARNING: no number is assigned for table`) or an option
(`--collect-only`); the file that prints it or declares it holds that text right after a quote
character. Two kinds of phrase are taken from code spans, quotes and exception lines of the task:
sentences (three or more words, matched by their longest quoted prefix of at least three words, since
the rest of a message is often formatted in) and code-like tokens (holding `-` or `_`, matched whole).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

_SPAN = re.compile(r"`([^`\n]{3,100})`")
_QUOTED = re.compile(r"""(?<![\w])["']([^"'\n]{3,120})["'](?![\w])""")
_MESSAGE = re.compile(r"^[ \t>]*[\w.]*(?:Error|Exception|Warning|WARNING|ERROR)\b:?[ \t]*(.{6,200})$", re.M)
_SEGMENT_BREAK = re.compile(r"""[:'"`()\[\]{}<>=]|\\n""")
_PATHLIKE = re.compile(r"^[\w.~\-]*[/\\][\w.\-/\\]*$|^[\w\-]+\.[A-Za-z]{1,5}$")
_INNER_MARK = re.compile(r"[-_]")
MIN_WORDS = 3
MAX_WORDS = 8
SENTENCE_WEIGHT = 2.0
"""A matched sentence says more than a matched token: a message is rarely printed in two places."""


@dataclass(frozen=True)
class Phrase:
    """Text to look for in string literals; `sentence` phrases may match by a prefix of their words."""

    text: str
    sentence: bool


def quoted_phrases(task: str) -> list[Phrase]:
    """The sentences and code-like tokens a task quotes, in a stable order."""
    raw = {m.strip() for rx in (_SPAN, _QUOTED, _MESSAGE) for m in rx.findall(task)}
    out: dict[str, Phrase] = {}
    for quoted in sorted(raw):
        for segment in _SEGMENT_BREAK.split(quoted):
            segment = segment.strip(" .,;")
            words = segment.split()
            if len(words) >= MIN_WORDS and sum(w.isalpha() for w in words) >= MIN_WORDS:
                text = " ".join(words[:MAX_WORDS])
                out[text] = Phrase(text, sentence=True)
            elif len(words) == 1 and _is_token(segment):
                out[segment] = Phrase(segment, sentence=False)
    return list(out.values())


def _is_token(word: str) -> bool:
    # options and identifiers with inner marks are specific; plain words and file names are not
    if len(word) < 4 or _PATHLIKE.match(word):
        return False
    return word.startswith("-") or bool(_INNER_MARK.search(word.strip("-_")))


def _match(phrase: Phrase, text: str) -> float:
    """How much of the phrase follows a quote in `text`: 1.0 whole, a share of words for a prefix, 0.0."""
    if not phrase.sentence:
        return 1.0 if ("'" + phrase.text in text or '"' + phrase.text in text) else 0.0
    words = phrase.text.split()
    for k in range(len(words), MIN_WORDS - 1, -1):
        prefix = " ".join(words[:k])
        if "'" + prefix in text or '"' + prefix in text:
            return k / len(words)
    return 0.0


def literal_scores(texts: Mapping[int, str], phrases: list[Phrase]) -> dict[int, float]:
    """Each candidate's sum over the phrases it quotes, rarer phrases (among the candidates) weighing more."""
    scores: dict[int, float] = {}
    for phrase in phrases:
        hits = {i: m for i, text in texts.items() if (m := _match(phrase, text)) > 0}
        if not hits:
            continue
        idf = math.log(1 + len(texts) / len(hits))
        weight = SENTENCE_WEIGHT if phrase.sentence else 1.0
        for i, share in hits.items():
            scores[i] = scores.get(i, 0.0) + share * idf * weight
    return scores
