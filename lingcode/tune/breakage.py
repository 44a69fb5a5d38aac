"""Realistic ways to break one function: each returns the broken lines, or None where it does not apply.

The breaks are the small slips a fix request is usually about (a dropped line, a flipped comparison, a wrong
call, an off-by-one in a literal or after a call), so a model trained to undo them learns the reply format on
the user's own code.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

Breaker = Callable[[list[str], random.Random, Sequence[str]], "list[str] | None"]

# Each operator and what a slip turns it into; spaces around them so that `->`, `**=` or `<<` never match.
_OPERATOR_SWAPS: dict[str, str] = {
    " == ": " != ",
    " != ": " == ",
    " <= ": " < ",
    " >= ": " > ",
    " < ": " <= ",
    " > ": " >= ",
    " + ": " - ",
    " - ": " + ",
    " and ": " or ",
    " or ": " and ",
    " is not ": " is ",
}
_NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(")
_CONTINUED = (":", "{", "(", "[", ",", "\\")  # a line ending so opens a block or goes on to the next
# what may stand before a call whose value an expression goes on to use (an operand, not a statement)
_OPERAND_BEFORE = ("=", "(", "[", ",", "+", "-", "<", ">", "return", "if", "and", "or")
# what may follow it so that `+ 1` binds to the call alone (not `len(x) + 1 // 2`, nor `f(x) + 1.attr`)
_OPERAND_AFTER = ("", ")", "]", ",", ":", "+", "-", "<", ">", "=", "!", "#", "if", "else", "and", "or")
_KEYWORDS = frozenset({"if", "for", "while", "return", "print", "not", "and", "or", "in", "elif", "with"})


def _with_line(lines: list[str], index: int, text: str) -> list[str]:
    """A copy of `lines` with line `index` replaced by `text`."""
    return [*lines[:index], text, *lines[index + 1 :]]


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("#", "//", '"""', "'''", "@"))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _body_indices(lines: list[str]) -> list[int]:
    """Lines after the signature that are code (never the first line, which names the function)."""
    return [i for i in range(1, len(lines)) if _is_code(lines[i])]


def swap_operator(lines: list[str], rng: random.Random, names: Sequence[str]) -> list[str] | None:
    """Flip one comparison, arithmetic or boolean operator."""
    spots = [(i, op) for i in _body_indices(lines) for op in _OPERATOR_SWAPS if op in lines[i]]
    if not spots:
        return None
    index, operator = rng.choice(spots)
    return _with_line(lines, index, lines[index].replace(operator, _OPERATOR_SWAPS[operator], 1))


def off_by_one(lines: list[str], rng: random.Random, names: Sequence[str]) -> list[str] | None:
    """Add one to one integer literal."""
    spots = [(i, m) for i in _body_indices(lines) for m in _NUMBER.finditer(lines[i])]
    if not spots:
        return None
    index, match = rng.choice(spots)
    line = lines[index]
    return _with_line(lines, index, f"{line[: match.start()]}{int(match.group(1)) + 1}{line[match.end() :]}")


def _closing(line: str, open_at: int) -> int | None:
    """Index of the parenthesis that closes the one at `open_at`, on the same line (None if it goes on)."""
    depth = 0
    for index in range(open_at, len(line)):
        depth += {"(": 1, ")": -1}.get(line[index], 0)
        if depth == 0:
            return index
    return None


def shift_result(lines: list[str], rng: random.Random, names: Sequence[str]) -> list[str] | None:
    """Add or subtract one after a call that an expression uses (`len(items)` -> `len(items) + 1`): the
    off-by-one that has no literal to nudge."""
    spots = []
    for i in _body_indices(lines):
        line = lines[i]
        for match in _CALL.finditer(line):
            before = line[: match.start()].rstrip()
            close = _closing(line, match.end() - 1)
            if match.group(1) in _KEYWORDS or close is None or not before.endswith(_OPERAND_BEFORE):
                continue
            after = line[close + 1 :].strip()
            if (not after or after.startswith(_OPERAND_AFTER[1:])) and not after.startswith(("**", "->")):
                spots.append((i, close))
    if not spots:
        return None
    index, close = rng.choice(spots)
    line = lines[index]
    return _with_line(lines, index, f"{line[: close + 1]} {rng.choice('+-')} 1{line[close + 1 :]}")


def remove_line(lines: list[str], rng: random.Random, names: Sequence[str]) -> list[str] | None:
    """Drop one simple statement: never a block opener (it would orphan its block) nor a lone line."""
    body = _body_indices(lines)
    spots = []
    for at, i in enumerate(body):
        stripped = lines[i].strip()
        opens = at + 1 < len(body) and _indent(lines[body[at + 1]]) > _indent(lines[i])  # (comment after ':')
        if opens or stripped.endswith(_CONTINUED) or stripped.startswith((")", "]", "}")):
            continue
        # a neighbour at the same indent is in the same block, so the block keeps a statement
        neighbours = [body[j] for j in (at - 1, at + 1) if 0 <= j < len(body)]
        if any(_indent(lines[j]) == _indent(lines[i]) for j in neighbours):
            spots.append(i)
    if not spots:
        return None
    index = rng.choice(spots)
    return lines[:index] + lines[index + 1 :]


def rename_call(lines: list[str], rng: random.Random, names: Sequence[str]) -> list[str] | None:
    """Call another function of the same file instead of the one meant (a plausible wrong name)."""
    spots = [
        (i, m)
        for i in _body_indices(lines)
        for m in _CALL.finditer(lines[i])
        if m.group(1) not in _KEYWORDS and any(n != m.group(1) for n in names)
    ]
    if not spots:
        return None
    index, match = rng.choice(spots)
    other = rng.choice([n for n in names if n != match.group(1)])
    line = lines[index]
    return _with_line(lines, index, f"{line[: match.start(1)]}{other}{line[match.end(1) :]}")


BREAKERS: dict[str, Breaker] = {
    "swap_operator": swap_operator,
    "off_by_one": off_by_one,
    "remove_line": remove_line,
    "rename_call": rename_call,
    "shift_result": shift_result,
}


def break_function(
    lines: list[str], rng: random.Random, names: Sequence[str]
) -> tuple[str, list[str]] | None:
    """Break the function one way, tried in a seeded random order; (kind, broken lines) or None."""
    kinds = sorted(BREAKERS)
    rng.shuffle(kinds)
    for kind in kinds:
        broken = BREAKERS[kind](lines, rng, names)
        if broken is not None and broken != lines:
            return kind, broken
    return None
