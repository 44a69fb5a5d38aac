"""Read the edits out of a model reply.

Accepted grammar (informal EBNF; a reply is read line by line, text around the edits is ignored):

    reply        = [reasoning] { prose | edit } ;
    reasoning    = "<think>" text "</think>" ;          (only at the very start; ignored, markers in it too)
    edit         = search-block | diff | whole-file | delete | rename ;

    search-block = [path-line] [fence-open] search-body { blank-line search-body } [fence-close] ;
    search-body  = "<<<<<<< SEARCH" NL { line } "=======" NL { line } ">>>>>>> REPLACE" NL ;
                   (5 to 9 marker characters are accepted; a block without a path line belongs to the
                   path of the block before it; an empty SEARCH creates a new file)
    path-line    = a line holding only a path, optionally decorated: `path`, **path**, # path, File: path
    fence-open   = "```" [language] NL ;                 (three or more backticks)

    diff         = [git-header] "--- " old-path NL "+++ " new-path NL { hunk } ;
    git-header   = "diff --git " ... NL { "index" | "new file mode" | "deleted file mode" | "similarity"
                   | "rename from " path | "rename to " path } ;
    hunk         = ["@@" [ "-" start ["," count] " +" start ["," count] ] "@@" [section] NL]
                   { (" " | "-" | "+") line NL | empty-line-as-blank-context | "\\ No newline..." } ;
                   (`a/` and `b/` prefixes are optional; line numbers and counts are hints only;
                   "--- /dev/null" creates a file, "+++ /dev/null" deletes one)

    whole-file   = path-line fence-open { line } fence-close ;   (the complete new content of the file)
    delete       = "DELETE FILE: " path NL ;
    rename       = "RENAME FILE: " path " -> " path NL ;

A reply with no edit markers yields no edits. Markers that do not close (a SEARCH without its divider or
REPLACE line, a REPLACE line without a SEARCH, a block without any path) raise FormatError with a
message the model can act on.
"""

from __future__ import annotations

import re

from lingcode.edit.diffparse import parse_diff_section
from lingcode.edit.types import (
    CreateFile,
    DeleteFile,
    Edit,
    FormatError,
    RenameFile,
    SearchReplace,
    WholeFile,
)

SEARCH_RE = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
DIVIDER_RE = re.compile(r"^\s*={5,9}\s*$")
REPLACE_RE = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")
FENCE_RE = re.compile(r"^(`{3,})([\w+#.-]*)\s*$")
DELETE_RE = re.compile(r"^DELETE FILE: (\S.*?)\s*$")
RENAME_RE = re.compile(r"^RENAME FILE: (\S.*?) -> (\S.*?)\s*$")
PATH_DECOR_RE = re.compile(r"^(?:#+\s*|(?:file|path)\s*:\s*)", re.IGNORECASE)
PATH_RE = re.compile(r"^[^\s`*'\"<>|]+$")
# inside backticks or quotes a path may hold spaces ("my notes.md"): the quoting marks it as a path
QUOTED_PATH_RE = re.compile(r"^[^\s`*'\"<>|](?:[^\t`*'\"<>|]*[^\s`*'\"<>|])?$")
REASONING_RE = re.compile(r"^\s*<(think|reasoning)>.*?</\1>", re.DOTALL)
UNCLOSED_REASONING_RE = re.compile(r"^\s*<(think|reasoning)>")


def parse_reply(text: str) -> list[Edit]:
    """All the edits in a reply, in order; [] when it holds none; FormatError when markers are broken."""
    text = text.replace("\r\n", "\n")
    stripped = REASONING_RE.sub("", text, count=1)
    if stripped is text and UNCLOSED_REASONING_RE.match(text):
        return []  # the reply never left its reasoning section
    return _Reader(stripped.split("\n")).read()


def clean_path(line: str) -> str | None:
    """The path a path line names, without markdown decoration; None when the line is not a path."""
    candidate = PATH_DECOR_RE.sub("", line.strip()).strip().rstrip(":")
    quoted = False
    for left, right in (("**", "**"), ("`", "`"), ('"', '"'), ("'", "'")):
        if (
            len(candidate) > len(left) + len(right)
            and candidate.startswith(left)
            and candidate.endswith(right)
        ):
            candidate = candidate[len(left) : -len(right)].strip()
            quoted = quoted or left != "**"
    candidate = candidate.rstrip(":")
    shape = QUOTED_PATH_RE if quoted else PATH_RE
    if not candidate or not shape.match(candidate) or FENCE_RE.match(candidate):
        return None
    if SEARCH_RE.match(candidate) or DIVIDER_RE.match(candidate) or REPLACE_RE.match(candidate):
        return None
    return candidate


def _looks_like_file(path: str) -> bool:
    """Whether a path line names a file strongly enough to start a whole-file block."""
    return "/" in path or "." in path.lstrip(".")


class _Reader:
    """A cursor over the reply's lines that collects edits."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0
        self.edits: list[Edit] = []
        self.last_path: str | None = None
        self.blocks = 0

    def read(self) -> list[Edit]:
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if SEARCH_RE.match(line):
                self._search_block()
            elif REPLACE_RE.match(line):
                raise FormatError(
                    f"line {self.pos + 1}: a `>>>>>>> REPLACE` line without its `<<<<<<< SEARCH` and "
                    "`=======` lines; send each block as: path, SEARCH, old lines, =======, new, REPLACE."
                )
            elif self._diff_start(line):
                self.pos, edits = parse_diff_section(self.lines, self.pos)
                self.edits.extend(edits)
            elif match := DELETE_RE.match(line):
                self.edits.append(DeleteFile(match.group(1)))
                self.pos += 1
            elif match := RENAME_RE.match(line):
                self.edits.append(RenameFile(match.group(1), match.group(2)))
                self.pos += 1
            elif not self._whole_file():
                self.pos += 1
        return self.edits

    def _diff_start(self, line: str) -> bool:
        if line.startswith("diff --git "):
            return True
        nxt = self.lines[self.pos + 1] if self.pos + 1 < len(self.lines) else ""
        return line.startswith("--- ") and nxt.startswith("+++ ")

    def _path_before(self) -> str | None:
        """The path line just above the block (skipping one fence-open line), if there is one."""
        index = self.pos - 1
        if index >= 0 and FENCE_RE.match(self.lines[index]):
            index -= 1
        if index < 0:
            return None
        return clean_path(self.lines[index])

    def _search_block(self) -> None:
        self.blocks += 1
        path = self._path_before() or self.last_path
        if path is None:
            raise FormatError(
                f"SEARCH block {self.blocks} names no file: put the file's path alone on the line "
                "before the block (or before its opening ``` fence)."
            )
        start = self.pos
        self.pos += 1
        search = self._collect(DIVIDER_RE, start, "=======")
        replace = self._collect(REPLACE_RE, start, ">>>>>>> REPLACE")
        self.last_path = path
        if search == "":
            self.edits.append(CreateFile(path, replace))
        else:
            self.edits.append(SearchReplace(path, search, replace))

    def _collect(self, end: re.Pattern[str], start: int, name: str) -> str:
        """Lines from the cursor up to the `end` marker, each with its newline; moves past the marker."""
        body: list[str] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if end.match(line):
                self.pos += 1
                return "".join(f"{item}\n" for item in body)
            if SEARCH_RE.match(line) or (end is DIVIDER_RE and REPLACE_RE.match(line)):
                break
            body.append(line)
            self.pos += 1
        raise FormatError(
            f"SEARCH block {self.blocks} (starting at reply line {start + 1}) has no `{name}` line where "
            "one belongs; every block needs <<<<<<< SEARCH, the old lines, =======, the new lines, "
            ">>>>>>> REPLACE."
        )

    def _whole_file(self) -> bool:
        """Read a path line followed by a fenced block as the file's complete new content."""
        path = clean_path(self.lines[self.pos])
        if path is None or not _looks_like_file(path) or self.pos + 1 >= len(self.lines):
            return False
        opener = FENCE_RE.match(self.lines[self.pos + 1])
        if opener is None or opener.group(2) == "diff":
            return False
        ticks = len(opener.group(1))
        body: list[str] = []
        for index in range(self.pos + 2, len(self.lines)):
            line = self.lines[index]
            if SEARCH_RE.match(line) or (not body and self._diff_start_at(index)):
                return False
            closer = FENCE_RE.match(line)
            if closer is not None and not closer.group(2) and len(closer.group(1)) >= ticks:
                self.edits.append(WholeFile(path, "".join(f"{item}\n" for item in body)))
                self.last_path = path
                self.pos = index + 1
                return True
            body.append(line)
        return False

    def _diff_start_at(self, index: int) -> bool:
        saved, self.pos = self.pos, index
        try:
            return self._diff_start(self.lines[index])
        finally:
            self.pos = saved
