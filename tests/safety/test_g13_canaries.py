"""G13 from outside: canary secrets in the repository never appear in any request body the server logged."""

from __future__ import annotations

import json
from pathlib import Path

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from tests.conftest import GitRepoFactory
from tests.loop.helpers import FILES, FIX, QUICK

AWS_CANARY = "AKIAQCANARY7EXAMPLE1"
KEY_CANARY = "b3BlbnNzaC1rZXktdjEAAAAACANARYKEYBODY"
ENV_CANARY = "env-canary-5f3a9d"
RSA_CANARY = "rsa-canary-77c1e0"
CANARIES = (AWS_CANARY, KEY_CANARY, ENV_CANARY, RSA_CANARY)
SECRET_FILES: dict[str, str | bytes] = {
    "settings.py": f'AWS_ACCESS_KEY_ID = "{AWS_CANARY}"\n',
    "deploy_key.txt": (
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_CANARY}\n-----END OPENSSH PRIVATE KEY-----\n"
    ),
    ".env": f"API_PASSWORD={ENV_CANARY}\n",
    "id_rsa": f"{RSA_CANARY}\n",
}
TASK = "fix the failing test; settings.py, deploy_key.txt, .env and id_rsa may explain the setup"


def _logged(log: Path) -> str:
    return "\n".join(json.dumps(json.loads(line)["body"]) for line in log.read_text().splitlines())


def test_run_sends_no_canary(make_repo: GitRepoFactory, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    root = make_repo({**FILES, **SECRET_FILES})
    with ScriptedServer([FIX], log_path=log) as server:
        args = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", TASK, "--root", str(root),
                "--model-url", server.base_url, "--test-cmd", QUICK]  # fmt: skip
        run_cli(args)
    sent = _logged(log)
    assert "calc.py" in sent  # the context engine did send the repository's code
    assert [c for c in CANARIES if c in sent] == []
