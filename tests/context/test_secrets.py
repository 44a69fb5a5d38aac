"""Secrets never reach a prompt: denied files stay out and secret-shaped strings are redacted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingcode.cli import run_cli
from lingcode.context import build_context, git_context, is_denied, redact, repo_map
from tests.conftest import GitRepoFactory

AWS = "AKIA" + "QWERTYUIOPASDFGH"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
HIGH_ENTROPY = "Zx8" + "qW2vR7tY1uI9oP3aS6dF4gH"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "CANARYKEYBODY"
ENV_CANARY = "canary-env-" + "0d9f8e7c6b"
PEM_HEAD = "-----BEGIN OPENSSH PRIVATE KEY-----"
PEM_TAIL = "-----END OPENSSH PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"aws_key = '{AWS}'", AWS),
        (f"token: {GITHUB}", GITHUB),
        (f'API_SECRET = "{HIGH_ENTROPY}"', HIGH_ENTROPY),
        (f"password={HIGH_ENTROPY}", HIGH_ENTROPY),
        (f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----", PEM_BODY),
        (f"url = 'https://user:{HIGH_ENTROPY}@example.com/x'", HIGH_ENTROPY),
    ],
)
def test_redact_removes_secret_shapes(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "[REDACTED]" in out


@pytest.mark.parametrize(
    "text",
    ["token = get_token()", "password = password", "def authenticate(self, token):", "secret_count = 3"],
)
def test_ordinary_code_is_left_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("path", "denied"),
    [
        (".env", True),
        (".env.local", True),
        ("config/prod.pem", True),
        ("id_rsa", True),
        ("id_ed25519.pub", True),
        ("server.key", True),
        ("credentials.json", True),
        (".aws/credentials", True),
        ("id_utils.py", False),
        ("environment.py", False),
        ("keys.py", False),
    ],
)
def test_deny_list(path: str, denied: bool) -> None:
    assert is_denied(path) is denied


def _planted(make_repo: GitRepoFactory):  # type: ignore[no-untyped-def]
    return make_repo(
        {
            ".env": f"DATABASE_URL=postgres://u:p@h/db\nCANARY={ENV_CANARY}\n",
            "deploy/id_rsa": f"{PEM_HEAD}\n{PEM_BODY}\n{PEM_TAIL}\n",
            "settings.py": f'AWS_ACCESS_KEY_ID = "{AWS}"\nGITHUB_TOKEN = "{GITHUB}"\n'
            f'API_SECRET = "{HIGH_ENTROPY}"\n'
            "def load_settings():\n    return AWS_ACCESS_KEY_ID\n",
            "app.py": "from settings import load_settings\n\ndef main():\n    return load_settings()\n",
        }
    )


CANARIES = (AWS, GITHUB, HIGH_ENTROPY, PEM_BODY, ENV_CANARY)


def test_canaries_never_appear_in_context_or_map(
    make_repo: GitRepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _planted(make_repo)
    (root / "settings.py").write_text((root / "settings.py").read_text() + f"# new {GITHUB}\n")
    outputs = [
        build_context(
            "load settings AWS_ACCESS_KEY_ID in settings.py and .env",
            root,
            4000,
            named_files=["settings.py", ".env"],
        ).text,
        repo_map(root, 4000),
    ]
    for argv in (
        ["context", "settings CANARY env", "--root", str(root)],
        ["map", "--root", str(root)],
        ["context", "settings", "--root", str(root), "--json"],
    ):
        assert run_cli(argv) == 0
        outputs.append(capsys.readouterr().out)
    gc = git_context(root)
    outputs += [gc.status, gc.staged_diff, gc.unstaged_diff]
    assert "load_settings" in outputs[0]  # the file itself is there, only its secrets are not
    for out in outputs:
        for canary in CANARIES:
            assert canary not in out
        assert ".env" not in json.dumps(out)


@given(
    before=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    after=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    secret=st.sampled_from([AWS, GITHUB, PEM_BODY]),
)
@settings(max_examples=150, deadline=None)
def test_planted_secrets_never_survive_redaction(before: str, after: str, secret: str) -> None:
    secret_text = f"{PEM_HEAD}\n{PEM_BODY}\n{PEM_TAIL}" if secret == PEM_BODY else secret
    out = redact(f"{before} {secret_text} {after}")
    assert secret not in out
