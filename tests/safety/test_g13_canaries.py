"""G13 from outside: canary secrets in the repository never appear in any request body the server logged.

Through all three ways a user reaches the model: `run`, `review --staged` (the secret files staged beside a
real change) and the TUI. One AWS key sits in calc.py itself, the file every request must show, under a name
that is not secret-sounding, so only the AWS-key pattern can keep it out (the other canaries sit in files the
deny-list keeps out whole).
"""

from __future__ import annotations

import json
from pathlib import Path

from lingcode.cli import run_cli
from lingcode.model.scripted import ScriptedServer
from lingcode.ui.widgets.edit_review import EditReview
from tests.conftest import GitRepoFactory, git
from tests.loop.helpers import CALC, FILES, FIX, QUICK
from tests.review.helpers import CLEAN_REPLY, lingcode
from tests.ui import harness

AWS_CANARY = "AKIAQCANARY7EXAMPLE1"
CODE_AWS_CANARY = "AKIAQCODECANARY0EXA2"
KEY_CANARY = "b3BlbnNzaC1rZXktdjEAAAAACANARYKEYBODY"
ENV_CANARY = "env-canary-5f3a9d"
RSA_CANARY = "rsa-canary-77c1e0"
CANARIES = (AWS_CANARY, CODE_AWS_CANARY, KEY_CANARY, ENV_CANARY, RSA_CANARY)
# calc.py with a key in it, assigned to a name no secret-name rule matches
CALC_WITH_KEY = f'MIRROR_HINT = "{CODE_AWS_CANARY}"\n\n\n{CALC}'
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
    root = make_repo({**FILES, **SECRET_FILES, "calc.py": CALC_WITH_KEY})
    with ScriptedServer([FIX], log_path=log) as server:
        args = ["-c", "model.max_retries=0", "-c", "model.constrain=false", "run", TASK, "--root", str(root),
                "--model-url", server.base_url, "--test-cmd", QUICK]  # fmt: skip
        run_cli(args)
    sent = _logged(log)
    assert "MIRROR_HINT" in sent  # the context engine did send calc.py itself
    assert [c for c in CANARIES if c in sent] == []
    # redaction is of what is sent: the file on disk keeps its key
    assert (root / "calc.py").read_text().startswith(f'MIRROR_HINT = "{CODE_AWS_CANARY}"')


def test_review_staged_sends_no_canary(make_repo: GitRepoFactory, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    root = make_repo(FILES)
    for name, content in {**SECRET_FILES, "calc.py": CALC_WITH_KEY.replace("+ 1)", "+ 0)")}.items():
        target = root / name
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    git(root, "add", "-A")
    with ScriptedServer([CLEAN_REPLY] * 4, log_path=log) as server:
        args = ["-c", "model.max_retries=0", "review", "--staged", "--model-url", server.base_url]
        done = lingcode(*args, cwd=root)
    assert done.returncode == 0, done.stderr
    sent = _logged(log)
    assert "MIRROR_HINT" in sent and "(len(values) + 0)" in sent  # the staged change itself was reviewed
    assert [c for c in CANARIES if c in sent] == []


async def test_tui_sends_no_canary(make_repo: GitRepoFactory, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    calc = f'MIRROR_HINT = "{CODE_AWS_CANARY}"\n\n\n{harness.CALC}'
    root = make_repo({**harness.FILES, **SECRET_FILES, "calc.py": calc})
    with ScriptedServer([harness.FIX], log_path=log) as server:
        app = harness.build_app(harness.make_config(server.base_url), root)
        async with app.run_test(size=(110, 40)) as pilot:
            await harness.settle(pilot)
            await harness.type_line(pilot, TASK)
            await harness.wait_until(pilot, lambda: bool(app.query(EditReview)))
    sent = _logged(log)
    assert "MIRROR_HINT" in sent
    assert [c for c in CANARIES if c in sent] == []
