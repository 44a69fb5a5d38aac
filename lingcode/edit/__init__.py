"""The edit engine: read edits out of a model reply, apply them exactly or not at all, and export the reply
format as a decoding grammar. Independent of the loop, git and the UI."""

from lingcode.edit.apply import apply_edits, recover_interrupted
from lingcode.edit.grammar import GrammarLimits, GrammarResult, constrained_grammar, format_grammar
from lingcode.edit.parse import parse_reply
from lingcode.edit.render import render_edit
from lingcode.edit.result import ApplyResult, FileResult
from lingcode.edit.types import (
    CreateFile,
    DeleteFile,
    Edit,
    FormatError,
    Hunk,
    RenameFile,
    SearchReplace,
    UnifiedDiff,
    WholeFile,
)

__all__ = [
    "ApplyResult",
    "CreateFile",
    "DeleteFile",
    "Edit",
    "FileResult",
    "FormatError",
    "GrammarLimits",
    "GrammarResult",
    "Hunk",
    "RenameFile",
    "SearchReplace",
    "UnifiedDiff",
    "WholeFile",
    "apply_edits",
    "constrained_grammar",
    "format_grammar",
    "parse_reply",
    "recover_interrupted",
    "render_edit",
]
