"""A file's text as lines plus the bytes around them (BOM, each line's ending), so edits keep them intact."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

BOM = "\ufeff"
_LINE_RE = re.compile(r"([^\n]*?)(\r\n|\n|$)")


class Unreadable(Exception):
    """The bytes are not text lingcode may edit (binary)."""


@dataclass
class TextFile:
    """Lines without their endings; `endings[i]` is the ending of line i ('' only on an unterminated last)."""

    lines: list[str]
    endings: list[str]
    bom: bool = False
    encoding: str = "utf-8"
    """How the file's bytes are read and written back: UTF-8, or latin-1 for any other 8-bit text (every
    byte maps to one character and back, so lines an edit leaves alone keep their exact bytes)."""

    @classmethod
    def decode(cls, data: bytes) -> TextFile:
        """Split the bytes into lines (UTF-8, else latin-1); raise Unreadable for binary content."""
        if b"\x00" in data[:8192]:
            raise Unreadable("it looks binary (it holds NUL bytes); lingcode only edits text files")
        try:
            return cls.from_text(data.decode("utf-8", errors="strict"))
        except UnicodeDecodeError:
            decoded = cls.from_text(data.decode("latin-1"))
            decoded.encoding = "latin-1"
            return decoded

    @classmethod
    def from_text(cls, text: str) -> TextFile:
        """Split decoded text into lines and endings."""
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        lines: list[str] = []
        endings: list[str] = []
        if text:
            for match in _LINE_RE.finditer(text):
                if match.start() == len(text) and match.group(0) == "":
                    break
                lines.append(match.group(1))
                endings.append(match.group(2))
        return cls(lines, endings, bom)

    def encode(self) -> bytes:
        """The bytes of the file as it stands (UnicodeEncodeError if a latin-1 file got other characters)."""
        return self.text().encode(self.encoding)

    def unencodable(self) -> str | None:
        """Why the text cannot be written back in the file's encoding; None when it can."""
        try:
            self.text().encode(self.encoding)
        except UnicodeEncodeError as exc:
            return (
                f"the file is {self.encoding}, which cannot hold {exc.object[exc.start]!r}; "
                f"use only characters {self.encoding} has"
            )
        return None

    def text(self) -> str:
        """The full text, BOM included."""
        body = "".join(line + ending for line, ending in zip(self.lines, self.endings, strict=True))
        return (BOM if self.bom else "") + body

    def newline(self) -> str:
        """The most common line ending ('\\n' for a file without any)."""
        counts = Counter(ending for ending in self.endings if ending)
        return counts.most_common(1)[0][0] if counts else "\n"

    def replace(self, start: int, end: int, new_lines: list[str]) -> None:
        """Replace lines[start:end] with new_lines; new lines take the local ending."""
        if start < len(self.endings) and self.endings[start]:
            ending = self.endings[start]
        elif start > 0 and self.endings[start - 1]:
            ending = self.endings[start - 1]
        else:
            ending = self.newline()
        unterminated = end == len(self.lines) and bool(self.endings) and self.endings[-1] == ""
        new_endings = [ending] * len(new_lines)
        if unterminated and new_lines:
            new_endings[-1] = ""
        elif unterminated and start > 0 and not new_lines:
            # the old last line went away: the line now last keeps the file's missing final newline
            self.endings[start - 1] = ""
        self.lines[start:end] = new_lines
        self.endings[start:end] = new_endings
        if start > 0 and self.endings[start - 1] == "" and start - 1 < len(self.lines) - 1:
            self.endings[start - 1] = ending

    def set_text(self, text: str) -> None:
        """Replace the whole content with `text` (LF-separated), keeping this file's BOM, line ending and a
        missing final newline."""
        newline = self.newline()
        unterminated = bool(self.endings) and self.endings[-1] == ""
        new = TextFile.from_text(text)
        self.lines = new.lines
        self.endings = [newline if ending else "" for ending in new.endings]
        if unterminated and self.endings:
            self.endings[-1] = ""
