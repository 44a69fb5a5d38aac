"""G12 from outside: the test command run by `lingcode run` never sees secret-looking variables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FILES, FIX

SECRETS = {
    "GITHUB_TOKEN": "ghp-canary-1",
    "OPENAI_API_KEY": "sk-canary-2",
    "MY_SECRET": "canary-3",
    "AWS_ACCESS_KEY_ID": "AKIACANARY000000",
    "AWS_REGION": "eu-canary-1",
    "GOOGLE_APPLICATION_CREDENTIALS": "/canary/creds.json",
    "AZURE_CLIENT_ID": "canary-azure",
}


def test_test_command_env_has_no_secrets(
    make_repo: GitRepoFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    dump = tmp_path / "env.json"
    check = f"{sys.executable} -c \"import json, os; json.dump(dict(os.environ), open({str(dump)!r}, 'w'))\""
    root = make_repo(FILES)
    with ScriptedServer([FIX]) as server:
        args = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", "fix the failing test",
                "--root", str(root), "--model-url", server.base_url, "--test-cmd", check]  # fmt: skip
        run_cli(args)
    seen = json.loads(dump.read_text(encoding="utf-8"))
    assert seen["HARMLESS_SETTING"] == "kept"  # the dump is real, not an empty environment
    leaked = sorted(set(SECRETS) & set(seen))
    assert leaked == []
    assert not any(value in json.dumps(seen) for value in SECRETS.values())
    # which names were withheld is said (names only, never values): on stderr and in the run log
    err = capsys.readouterr().err
    assert all(name in err for name in SECRETS), err
    logs = list((root / ".git" / "lingcode" / "runs").rglob("*.jsonl"))
    records = [json.loads(line) for log in logs for line in log.read_text(encoding="utf-8").splitlines()]
    checks = [r for r in records if r.get("type") == "check" or r.get("kind") == "check"]
    assert checks and all(set(SECRETS) <= set(r["withheld"]) for r in checks)
    text = err + "".join(log.read_text(encoding="utf-8") for log in logs)
    assert not any(value in text for value in SECRETS.values())
