"""Turn a located match into the file's new lines, and a failed match into a message the model can act on."""

from __future__ import annotations

from lingcode.edit.match import Located, Matcher, NoMatch, is_elision
from lingcode.edit.types import Hunk

NEAR_CONTEXT = 2
CONTEXT_LINES = 3  # unchanged lines a unified diff keeps around each change
MAX_SHOWN = 12


class BlockRejected(Exception):
    """One block cannot be applied; the message is for the model."""


def search_replace(
    lines: list[str], search: list[str], replace: list[str], block: str
) -> tuple[int, int, list[str]]:
    """(start, end, new lines) for a SEARCH/REPLACE block; BlockRejected if SEARCH is absent or ambiguous."""
    try:
        located = Matcher(lines).locate(search)
    except NoMatch as exc:
        raise BlockRejected(_no_match_message(lines, exc, block, "SEARCH")) from None
    out: list[str] = []
    marker_ranges = iter(located.elided)
    elides = bool(located.elided) and located.level.startswith(("elision", "blank"))
    replace_markers = sum(1 for line in replace if is_elision(line)) if elides else 0
    if replace_markers and replace_markers != len(located.elided):
        raise BlockRejected(
            f"{block}: REPLACE has {replace_markers} `...` lines but SEARCH has {len(located.elided)}, "
            "so it is unclear which lines they stand for; write the REPLACE lines out in full."
        )
    for line in replace:
        if replace_markers and is_elision(line):
            low, high = next(marker_ranges)
            out.extend(lines[low:high])
        else:
            out.append(located.indent.apply(line) if located.indent else line)
    return located.start, located.end, out


def hunk(lines: list[str], item: Hunk, block: str, offset: int) -> tuple[int, int, list[str]]:
    """(start, end, new lines) for a diff hunk; file lines it skipped inside its span stay."""
    hint = item.old_start - 1 + offset if item.old_start else None
    old = item.old_lines
    if not old:
        start = min(max(hint or 0, 0), len(lines)) if hint is not None else None
        if start is None:
            raise BlockRejected(
                f"{block}: the hunk has no context or removed lines, so there is no place to add "
                "its lines; include 2-3 unchanged lines around the change."
            )
        return start, start, item.new_lines
    try:
        located = Matcher(lines).locate(old, hint=hint, gaps=True)
    except NoMatch as exc:
        raise BlockRejected(_no_match_message(lines, exc, block, "hunk")) from None
    if item.lines[-1][0] == "+" and located.end < len(lines) and any(op == " " for op, _ in item.lines):
        # an unchanged line dropped after the change would make us insert at the wrong place: refuse to guess
        raise BlockRejected(
            f"{block}: the hunk ends with added lines but the file goes on after line {located.end}, so "
            "where they belong is uncertain; end the hunk with the 2-3 unchanged lines after the change."
        )
    return located.start, located.end, _hunk_lines(lines, item, located, block)


def _hunk_lines(lines: list[str], item: Hunk, located: Located, block: str) -> list[str]:
    """The region's new lines: added lines in order, file lines kept unless the hunk removes them (so lines
    the hunk left out, like a dropped context line, stay as they were)."""
    following = _next_mapped(item, located)
    out: list[str] = []
    cursor = located.start
    old_index = 0
    previous_op = " "
    for number, (op, text) in enumerate(item.lines):
        if op == "+":
            upcoming = following[number]
            gap = previous_op == " " and upcoming is not None and upcoming > cursor
            if (
                gap
                and upcoming is not None
                and _gap_goes_first(item, number, lines[cursor:upcoming], cursor, block)
            ):
                out.extend(lines[cursor:upcoming])
                cursor = upcoming
            out.append(located.indent.apply(text) if located.indent else text)
            previous_op = "+"
            continue
        previous_op = op
        index = located.mapping[old_index] if old_index < len(located.mapping) else None
        old_index += 1
        if index is None or index < cursor:
            continue
        out.extend(lines[cursor:index])
        if op == " ":
            out.append(lines[index])
        cursor = index + 1
    out.extend(lines[cursor : located.end])
    return out


def _gap_goes_first(item: Hunk, number: int, gap: list[str], cursor: int, block: str) -> bool:
    """File lines the hunk skipped sit just before the insertion starting at item.lines[number]: do they go
    before it or after it? Diffs carry at most 3 unchanged lines before the first change and after the last,
    so a side that would then hold more is ruled out; when neither or both sides remain, refuse."""
    added = [text for op, text in item.lines[number:]]
    run = next((i for i, op in enumerate(op for op, _ in item.lines[number:]) if op != "+"), len(added))
    if gap + added[:run] == added[:run] + gap:
        return False
    changes = [i for i, (op, _) in enumerate(item.lines) if op != " "]
    lead, trail = changes[0], len(item.lines) - 1 - changes[-1]
    first_fits = number != changes[0] or lead + len(gap) <= CONTEXT_LINES
    last_fits = number + run - 1 != changes[-1] or trail + len(gap) <= CONTEXT_LINES
    if first_fits != last_fits:
        return first_fits
    where = f"line {cursor + 1}" if len(gap) == 1 else f"lines {cursor + 1}-{cursor + len(gap)}"
    raise BlockRejected(
        f"{block}: the hunk leaves out file {where} ({gap[0].strip()[:60]!r}) next to its added lines, so "
        "their place is uncertain; send every unchanged line between the changes."
    )


def _next_mapped(item: Hunk, located: Located) -> list[int | None]:
    """For each hunk line, the file index of the next old line at or after it that has one."""
    result: list[int | None] = [None] * len(item.lines)
    upcoming: int | None = None
    old_index = sum(1 for op, _ in item.lines if op != "+")
    for number in range(len(item.lines) - 1, -1, -1):
        op = item.lines[number][0]
        if op != "+":
            old_index -= 1
            mapped = located.mapping[old_index] if old_index < len(located.mapping) else None
            upcoming = mapped if mapped is not None else upcoming
        result[number] = upcoming
    return result


def _no_match_message(lines: list[str], exc: NoMatch, block: str, what: str) -> str:
    if exc.kind == "ambiguous":
        places = ", ".join(str(place + 1) for place in exc.places[:8])
        return (
            f"{block}: the {what} lines occur in {len(exc.places)} places (lines {places}), so it is unclear "
            f"which one to change; add a few unchanged lines before or after so it occurs exactly once."
        )
    message = f"{block}: the {what} lines are not in the file."
    if exc.near is not None:
        low = max(exc.near[0] - NEAR_CONTEXT, 0)
        high = min(exc.near[1] + NEAR_CONTEXT, len(lines), low + MAX_SHOWN)
        shown = "\n".join(f"{number + 1:>5} | {lines[number]}" for number in range(low, high))
        message += f" The closest lines are {low + 1}-{high}:\n{shown}\n"
    return message + (
        f"Copy the {what} lines exactly from the file as it is now (same characters and indentation); "
        "do not retype or abbreviate them."
    )
