"""Polyglot-style exercises (stub + tests, as in Aider's polyglot benchmark), one per language family.

Each has the files of a fresh repository with a wrong stub, the reply that fixes it, and one that does not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """A tiny project whose tests fail until `fix` is applied; `wrong` changes the code, not the verdict."""

    name: str
    files: dict[str, str | bytes]
    fix: str
    wrong: str
    system: str
    """The build system detection should find (TestPlan.system)."""


def _reply(path: str, search: str, replace: str) -> str:
    return (
        f"<think>\nThe stub is wrong; edit {path}.\n</think>\n{path}\n"
        f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"
    )


def _exercise(name: str, system: str, files: dict[str, str | bytes], path: str, stub: str, good: str,
              bad: str) -> Exercise:  # fmt: skip
    return Exercise(name, files, _reply(path, stub, good), _reply(path, stub, bad), system)


JAVASCRIPT = _exercise(
    "javascript",
    "npm",
    {
        "package.json": '{"name": "leap", "version": "1.0.0", "scripts": {"test": "node --test"}}\n',
        "leap.js": "function isLeap(year) {\n  return year % 4 === 0;\n}\n\nmodule.exports = { isLeap };\n",
        "leap.test.js": (
            "const test = require('node:test');\nconst assert = require('node:assert');\n"
            "const { isLeap } = require('./leap');\n\n"
            "test('century is not leap', () => assert.strictEqual(isLeap(1900), false));\n"
            "test('400 is leap', () => assert.strictEqual(isLeap(2000), true));\n"
            "test('4 is leap', () => assert.strictEqual(isLeap(1996), true));\n"
        ),
    },
    "leap.js",
    "  return year % 4 === 0;",
    "  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);",
    "  return year % 4 === 0 && year % 100 !== 0;",
)

RUST = _exercise(
    "rust",
    "cargo",
    {
        "Cargo.toml": '[package]\nname = "leap"\nversion = "0.1.0"\nedition = "2021"\n',
        ".gitignore": "/target\n",
        "src/lib.rs": "pub fn is_leap_year(year: u64) -> bool {\n    year % 4 == 0\n}\n",
        "tests/leap.rs": (
            "use leap::is_leap_year;\n\n#[test]\nfn century() {\n    assert!(!is_leap_year(1900));\n}\n\n"
            "#[test]\nfn four_hundred() {\n    assert!(is_leap_year(2000));\n}\n"
        ),
    },
    "src/lib.rs",
    "    year % 4 == 0",
    "    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)",
    "    year % 4 == 0 && year % 100 != 0",
)

CPP = _exercise(
    "cpp",
    "cmake",
    {
        "CMakeLists.txt": (
            "cmake_minimum_required(VERSION 3.16)\nproject(leap CXX)\nenable_testing()\n"
            "add_executable(leap_test leap_test.cpp leap.cpp)\nadd_test(NAME leap_test COMMAND leap_test)\n"
        ),
        "leap.h": "#pragma once\n\nbool is_leap_year(int year);\n",
        "leap.cpp": '#include "leap.h"\n\nbool is_leap_year(int year) {\n    return year % 4 == 0;\n}\n',
        "leap_test.cpp": (
            '#include "leap.h"\n#include <cstdio>\n\nint main() {\n    int failed = 0;\n'
            '    if (is_leap_year(1900)) { std::puts("FAIL: 1900 is not a leap year"); ++failed; }\n'
            '    if (!is_leap_year(2000)) { std::puts("FAIL: 2000 is a leap year"); ++failed; }\n'
            "    return failed;\n}\n"
        ),
    },
    "leap.cpp",
    "    return year % 4 == 0;",
    "    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);",
    "    return year % 4 == 0 && year % 100 != 0;",
)

MESON = _exercise(
    "c-meson",
    "meson",
    {
        "meson.build": (
            "project('leap', 'c')\ntest('leap', executable('leap_test', 'leap_test.c', 'leap.c'))\n"
        ),
        "leap.h": "#pragma once\n\nint is_leap_year(int year);\n",
        "leap.c": '#include "leap.h"\n\nint is_leap_year(int year) {\n    return year % 4 == 0;\n}\n',
        "leap_test.c": (
            '#include "leap.h"\n#include <stdio.h>\n\nint main(void) {\n    int failed = 0;\n'
            '    if (is_leap_year(1900)) { puts("FAIL: 1900 is not a leap year"); ++failed; }\n'
            '    if (!is_leap_year(2000)) { puts("FAIL: 2000 is a leap year"); ++failed; }\n'
            "    return failed;\n}\n"
        ),
    },
    "leap.c",
    "    return year % 4 == 0;",
    "    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);",
    "    return year % 4 == 0 && year % 100 != 0;",
)

JAVA_MAKE = _exercise(
    "java",
    "make",
    {
        "Makefile": (
            "test:\n\tjavac -d build src/Leap.java src/LeapTest.java && java -ea -cp build LeapTest\n"
        ),
        ".gitignore": "/build\n",
        "src/Leap.java": (
            "public class Leap {\n    public static boolean isLeap(int year) {\n"
            "        return year % 4 == 0;\n    }\n}\n"
        ),
        "src/LeapTest.java": (
            "public class LeapTest {\n    public static void main(String[] args) {\n"
            '        if (Leap.isLeap(1900)) { System.out.println("FAIL: 1900"); System.exit(1); }\n'
            '        if (!Leap.isLeap(2000)) { System.out.println("FAIL: 2000"); System.exit(1); }\n'
            '        System.out.println("OK");\n    }\n}\n'
        ),
    },
    "src/Leap.java",
    "        return year % 4 == 0;",
    "        return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);",
    "        return year % 4 == 0 && year % 100 != 0;",
)

PYTHON = _exercise(
    "python",
    "pytest",
    {
        "leap.py": "def is_leap_year(year):\n    return year % 4 == 0\n",
        "tests/test_leap.py": (
            "from leap import is_leap_year\n\n\ndef test_century():\n    assert not is_leap_year(1900)\n\n\n"
            "def test_four_hundred():\n    assert is_leap_year(2000)\n"
        ),
        "conftest.py": (
            "import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).parent))\n"
        ),
    },
    "leap.py",
    "    return year % 4 == 0",
    "    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",
    "    return year % 4 == 0 and year % 100 != 0",
)

MAVEN_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>leap</artifactId>
  <version>1.0</version>
  <dependencies>
    <dependency>
      <groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope>
    </dependency>
  </dependencies>
</project>
"""
