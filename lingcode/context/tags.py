"""Definitions and references of a source file, found with tree-sitter and the queries in queries/*.scm.

Each query marks a definition with `@definition.<kind>` around the node and `@name` on its name, and a
use of a name with `@reference`. The per-language grammar wheels are imported only when a file of that
language is parsed.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from tree_sitter import Language, Node, Parser, Query, QueryCursor

# file suffix -> (language name = query file stem, grammar module, function in it returning the grammar)
_GRAMMARS: dict[str, tuple[str, str, str]] = {
    ".py": ("python", "tree_sitter_python", "language"),
    ".pyi": ("python", "tree_sitter_python", "language"),
    ".js": ("javascript", "tree_sitter_javascript", "language"),
    ".jsx": ("javascript", "tree_sitter_javascript", "language"),
    ".mjs": ("javascript", "tree_sitter_javascript", "language"),
    ".cjs": ("javascript", "tree_sitter_javascript", "language"),
    ".ts": ("typescript", "tree_sitter_typescript", "language_typescript"),
    ".mts": ("typescript", "tree_sitter_typescript", "language_typescript"),
    ".cts": ("typescript", "tree_sitter_typescript", "language_typescript"),
    ".tsx": ("tsx", "tree_sitter_typescript", "language_tsx"),
    ".go": ("go", "tree_sitter_go", "language"),
    ".rs": ("rust", "tree_sitter_rust", "language"),
    ".java": ("java", "tree_sitter_java", "language"),
    ".c": ("c", "tree_sitter_c", "language"),
    ".h": ("cpp", "tree_sitter_cpp", "language"),  # C++ parses C headers well enough, not the reverse
    ".cc": ("cpp", "tree_sitter_cpp", "language"),
    ".cpp": ("cpp", "tree_sitter_cpp", "language"),
    ".cxx": ("cpp", "tree_sitter_cpp", "language"),
    ".hpp": ("cpp", "tree_sitter_cpp", "language"),
    ".hh": ("cpp", "tree_sitter_cpp", "language"),
    ".rb": ("ruby", "tree_sitter_ruby", "language"),
    ".cs": ("c_sharp", "tree_sitter_c_sharp", "language"),
}
_QUERY_FILE = {"tsx": "typescript"}

# node types whose descendants' functions are methods
_CLASS_LIKE = frozenset(
    {
        "class_definition",
        "class_declaration",
        "class_body",
        "class",
        "module",
        "impl_item",
        "trait_item",
        "class_specifier",
        "struct_specifier",
        "interface_declaration",
        "struct_declaration",
        "singleton_class",
    }
)
_ROOTS = frozenset({"module", "program", "source_file", "translation_unit", "compilation_unit"})
_CONST_MARKS = (b"const ", b"static final ", b"static readonly ")
_MAX_SIGNATURE = 200
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Definition:
    """One definition: its name, kind (class, function, method, constant, ...), 1-based line and signature."""

    name: str
    kind: str
    line: int
    end_line: int
    signature: str


@dataclass(frozen=True)
class FileTags:
    """What a file defines and which names it uses."""

    language: str
    definitions: list[Definition]
    references: list[str]


def language_of(path: str) -> str | None:
    """The tree-sitter language name for a path, or None when lingcode has no grammar for it."""
    dot = path.rfind(".")
    entry = _GRAMMARS.get(path[dot:].lower()) if dot >= 0 else None
    return entry[0] if entry else None


def languages() -> list[str]:
    """All language names with a grammar and a query."""
    return sorted({entry[0] for entry in _GRAMMARS.values()})


@cache
def _parser_and_query(lang: str) -> tuple[Parser, Query]:
    module_name, func = next((m, f) for (name, m, f) in _GRAMMARS.values() if name == lang)
    language = Language(getattr(importlib.import_module(module_name), func)())
    source = files("lingcode.context").joinpath("queries").joinpath(f"{_QUERY_FILE.get(lang, lang)}.scm")
    return Parser(language), Query(language, source.read_text(encoding="utf-8"))


def _signature(node: Node, source: bytes) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else node.end_byte
    text = source[node.start_byte : end].decode("utf-8", errors="replace")
    if body is None:
        text = text.split("\n", 1)[0] if node.type not in ("type_spec", "type_alias_declaration") else text
    text = _SPACE.sub(" ", text).strip().rstrip("{:").rstrip()
    return text if len(text) <= _MAX_SIGNATURE else text[: _MAX_SIGNATURE - 1] + "…"


def _kind(kind: str, node: Node) -> str:
    if kind == "function":
        parent = node.parent
        while parent is not None:
            if (parent.type in _CLASS_LIKE and parent.type != "module") or (
                parent.type == "module" and parent.parent is not None
            ):
                return "method"
            if parent.type in ("function_definition", "function_declaration", "function_item", "method"):
                return "function"  # a nested helper is not a method of an outer class
            parent = parent.parent
    return kind


def _keep_constant(name: str, node: Node) -> bool:
    # module-level names (under the root, or one wrapper such as export/const blocks) and UPPER_CASE ones
    depth, parent = 0, node.parent
    while parent is not None and depth < 3:
        depth, parent = depth + 1, parent.parent
    head = (node.text or b"")[:120].split(b"\n", 1)[0]
    return depth <= 2 or (name.isupper() and len(name) > 1) or any(m in head for m in _CONST_MARKS)


def extract(lang: str, source: bytes) -> FileTags:
    """Parse `source` as `lang` and return its definitions (in file order) and referenced names."""
    parser, query = _parser_and_query(lang)
    tree = parser.parse(source)
    seen: set[tuple[str, int]] = set()
    definitions: list[Definition] = []
    references: set[str] = set()
    for _index, captures in QueryCursor(query).matches(tree.root_node):
        _collect(captures, source, seen, definitions, references)
    definitions.sort(key=lambda d: d.line)
    names = {d.name for d in definitions}
    return FileTags(lang, definitions, sorted(references - names))


def _collect(
    captures: dict[str, Any], source: bytes, seen: set[tuple[str, int]], out: list[Definition], refs: set[str]
) -> None:
    for node in captures.get("reference", ()):
        if node.text:
            refs.add(node.text.decode("utf-8", errors="replace"))
    name_nodes = captures.get("name")
    if not name_nodes:
        return
    for capture, nodes in captures.items():
        if not capture.startswith("definition."):
            continue
        node, name_node = nodes[0], name_nodes[0]
        name = (name_node.text or b"").decode("utf-8", errors="replace")
        line = node.start_point[0] + 1
        kind = _kind(capture.split(".", 1)[1], node)
        if not name or (kind == "constant" and not _keep_constant(name, node)):
            return
        if (name, line) in seen:
            # one node matched twice (`const f = () => ...` is a function and a constant): keep the function
            if kind != "constant":
                out[:] = [d for d in out if (d.name, d.line) != (name, line)] + [
                    Definition(name, kind, line, node.end_point[0] + 1, _signature(node, source))
                ]
            return
        seen.add((name, line))
        out.append(Definition(name, kind, line, node.end_point[0] + 1, _signature(node, source)))
        return
