"""The example CI workflows are valid YAML with the steps their README promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((CI / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on"
    assert "on" in data or True in data
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    result: list[dict[str, Any]] = job["steps"]
    return result


def test_fix_workflow_runs_lingcode_and_uploads_patch_and_result() -> None:
    workflow = load("lingcode-fix.yml")
    runs = "\n".join(s.get("run", "") for s in steps(workflow))
    assert "lingcode serve --engine vllm" in runs
    assert "lingcode run --output-format json" in runs and "--patch-out lingcode.patch" in runs
    (upload,) = [s for s in steps(workflow) if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert "lingcode.patch" in upload["with"]["path"] and "lingcode-result.json" in upload["with"]["path"]
    assert "${{ inputs" not in runs  # inputs go through env, never into the script text


def test_review_workflow_uploads_sarif() -> None:
    workflow = load("lingcode-review.yml")
    runs = "\n".join(s.get("run", "") for s in steps(workflow))
    assert "lingcode review --base origin/main --format sarif" in runs
    uploads = [
        s for s in steps(workflow) if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")
    ]
    assert uploads and uploads[0]["with"]["sarif_file"] == "lingcode.sarif"
    assert workflow["permissions"]["security-events"] == "write"
