"""Tree-sitter definitions for each supported language, on small fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lingcode.context.tags import extract, language_of, languages

FIXTURES = Path(__file__).parent / "fixtures" / "langs"

EXPECTED: dict[str, set[tuple[str, str]]] = {
    "sample.py": {
        ("constant", "MAX_RETRIES"),
        ("class", "Greeter"),
        ("method", "greet"),
        ("function", "format_greeting"),
    },
    "sample.js": {
        ("constant", "MAX_RETRIES"),
        ("class", "Greeter"),
        ("method", "greet"),
        ("function", "formatGreeting"),
        ("function", "shout"),
    },
    "sample.ts": {
        ("constant", "MAX_RETRIES"),
        ("interface", "Named"),
        ("type", "Id"),
        ("class", "Greeter"),
        ("method", "greet"),
        ("function", "formatGreeting"),
    },
    "sample.tsx": {("interface", "Props"), ("function", "Button"), ("class", "Panel"), ("method", "render")},
    "sample.go": {
        ("constant", "MaxRetries"),
        ("type", "Greeter"),
        ("method", "Greet"),
        ("function", "FormatGreeting"),
    },
    "sample.rs": {
        ("constant", "MAX_RETRIES"),
        ("class", "Greeter"),
        ("interface", "Greet"),
        ("method", "greet"),
        ("function", "format_greeting"),
    },
    "Sample.java": {
        ("class", "Greeter"),
        ("constant", "MAX_RETRIES"),
        ("method", "Greeter"),
        ("method", "greet"),
        ("interface", "Named"),
        ("method", "name"),
    },
    "sample.c": {
        ("constant", "MAX_RETRIES"),
        ("class", "greeter"),
        ("type", "greeter_t"),
        ("function", "format_greeting"),
        ("function", "greet"),
    },
    "sample.cpp": {
        ("constant", "MAX_RETRIES"),
        ("module", "greet"),
        ("class", "Greeter"),
        ("method", "greet"),
        ("function", "format_greeting"),
    },
    "sample.rb": {
        ("constant", "MAX_RETRIES"),
        ("module", "Greetings"),
        ("class", "Greeter"),
        ("method", "greet"),
        ("method", "build"),
        ("method", "format_greeting"),
    },
    "Sample.cs": {
        ("module", "Greet"),
        ("interface", "INamed"),
        ("class", "Greeter"),
        ("constant", "MaxRetries"),
        ("property", "Name"),
        ("method", "Greet"),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_definitions_per_language(name: str) -> None:
    lang = language_of(name)
    assert lang is not None
    tags = extract(lang, (FIXTURES / name).read_bytes())
    assert {(d.kind, d.name) for d in tags.definitions} == EXPECTED[name]
    lines = [d.line for d in tags.definitions]
    assert lines == sorted(lines)


def test_every_language_has_a_fixture() -> None:
    covered = {language_of(name) for name in EXPECTED}
    assert covered == set(languages())


@pytest.mark.parametrize(
    ("name", "definition", "signature"),
    [
        ("sample.py", "greet", "def greet(self, name: str) -> str"),
        ("sample.go", "FormatGreeting", "func FormatGreeting(name string) string"),
        ("sample.rs", "format_greeting", "pub fn format_greeting(name: &str) -> String"),
        ("Sample.java", "greet", "public String greet(String who)"),
        ("sample.ts", "formatGreeting", "function formatGreeting(name: string): string"),
    ],
)
def test_signatures_stop_before_the_body(name: str, definition: str, signature: str) -> None:
    lang = language_of(name)
    assert lang is not None
    tags = extract(lang, (FIXTURES / name).read_bytes())
    found = [d.signature for d in tags.definitions if d.name == definition]
    assert signature in found or any(s.endswith(signature) for s in found)


def test_references_name_what_is_used_elsewhere() -> None:
    tags = extract("python", (FIXTURES / "sample.py").read_bytes())
    assert "Base" in tags.references
    assert "format_greeting" not in tags.references  # defined here: not a reference to another file


def test_unknown_language_has_no_grammar() -> None:
    assert language_of("notes.txt") is None
    assert language_of("Makefile") is None
