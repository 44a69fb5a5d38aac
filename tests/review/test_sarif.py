"""SARIF output, validated against the official SARIF 2.1.0 JSON schema (vendored in data/)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from lingcode.run.review_findings import Finding
from lingcode.run.sarif import to_sarif
from tests.review.helpers import DATA

SOURCE = "def add(a, b):\n    return a - b\n\n\nprint(add(1, 2))\n"
BLOCK = "<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif_of(findings: list[Finding]) -> dict[str, Any]:
    return to_sarif(findings, lambda path: SOURCE if path == "calc.py" else None)


def test_findings_make_a_valid_sarif_log(validator: jsonschema.protocols.Validator) -> None:
    findings = [
        Finding("calc.py", 2, "error", "subtracts instead of adding", BLOCK),
        Finding("calc.py", 5, "warning", "prints at import time"),
        Finding("docs/guide.md", 1, "info", "typo"),
    ]
    log = sarif_of(findings)
    validator.validate(log)
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "calc.py"
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_suggestion_becomes_a_fix_at_the_right_offset(validator: jsonschema.protocols.Validator) -> None:
    log = sarif_of([Finding("calc.py", 2, "error", "wrong sign", BLOCK)])
    validator.validate(log)
    (change,) = log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"]
    (replacement,) = change["replacements"]
    region = replacement["deletedRegion"]
    deleted = SOURCE[region["charOffset"] : region["charOffset"] + region["charLength"]]
    assert deleted == "    return a - b\n"
    assert replacement["insertedContent"]["text"] == "    return a + b\n"


def test_suggestion_that_does_not_match_the_file_is_left_out() -> None:
    stale = BLOCK.replace("a - b", "a * b", 1)
    log = sarif_of([Finding("calc.py", 2, "error", "wrong sign", stale)])
    assert "fixes" not in log["runs"][0]["results"][0]


def test_no_findings_is_still_a_valid_log(validator: jsonschema.protocols.Validator) -> None:
    log = sarif_of([])
    validator.validate(log)
    assert log["runs"][0]["results"] == []


def test_the_schema_rejects_a_broken_log(validator: jsonschema.protocols.Validator) -> None:
    # the check above means something only if the schema catches mistakes
    log = sarif_of([Finding("calc.py", 2, "error", "x")])
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(log)


def test_what_github_code_scanning_requires(validator: jsonschema.protocols.Validator) -> None:
    findings = [
        Finding("calc.py", 0, "error", "whole file: no tests"),  # line 0 from a model still makes line 1
        Finding("pkg/sub dir/ü.py", 3, "warning", "shadowed name"),
        Finding("calc.py", 2, "info", "naming"),
    ]
    log = sarif_of(findings)
    validator.validate(log)
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "lingcode" and driver["rules"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert len(set(rule_ids)) == len(rule_ids)
    fingerprints = set()
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["partialFingerprints"] and all(result["partialFingerprints"].values())
        fingerprints.add(tuple(result["partialFingerprints"].items()))
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] in run["originalUriBaseIds"]
        assert not artifact["uri"].startswith(("/", "file:")) and ".." not in artifact["uri"].split("/")
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region.get("startColumn", 1) >= 1
    assert len(fingerprints) == len(findings)  # distinct findings stay distinct across runs
