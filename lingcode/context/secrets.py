"""Keep secrets out of prompts: a deny-list of secret-bearing file names and redaction of secret-shaped text.

Denied files never reach a prompt, not even by path in the map. Redaction replaces cloud keys, tokens,
private-key blocks and high-entropy values assigned to secret-sounding names with a fixed marker.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import PurePosixPath

REDACTED = "[REDACTED]"

# Matched against the file's base name. `id_*` is an SSH key only without a source-code suffix
# (id_rsa, id_ed25519.pub); `id_utils.py` is code.
_DENY_NAMES = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "credentials",
    "credentials.*",
    "*credentials*.json",
    ".netrc",
    ".pgpass",
    ".pypirc",
    ".htpasswd",
    "secrets.yml",
    "secrets.yaml",
    "*.tfstate",
)


_SSH_KEY = re.compile(r"^id_[a-z0-9]+(\.pub)?$")
# the same rules as _DENY_NAMES, spelled out for speed: this runs for every file on every call
_DENY_EXACT = frozenset(n for n in _DENY_NAMES if "*" not in n)
_DENY_SUFFIXES = tuple(n[1:] for n in _DENY_NAMES if n.startswith("*.") and n.count("*") == 1)
_DENY_PREFIXES = tuple(n[:-1] for n in _DENY_NAMES if n.endswith(".*") and n.count("*") == 1)


_PATTERNS = [
    # private-key blocks, whole
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
        re.S,
    ),
    re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b"),  # GitLab
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),  # Google API keys
    re.compile(r"\b[sr]k_(live|test)_[0-9A-Za-z]{16,}\b"),  # Stripe
    re.compile(r"\bsk-(proj-|ant-)?[A-Za-z0-9_\-]{20,}\b"),  # OpenAI / Anthropic style
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),  # Hugging Face
    re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\b"),  # JWTs
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s:@]{3,}(?=@)"),  # user:password@ in URLs
]

# A value assigned to a secret-sounding name: NAME = "value", NAME: value, "name": "value".
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<name>[\w.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key|auth|credential)
       [\w.-]*)
    (?P<sep>["']?\s*(?:=|:|=>)\s*)
    (?P<quote>["']?)
    (?P<value>[^\s"',;)]{8,})
    """
)
# Long opaque literals anywhere: flagged only when their entropy says they are random.
_OPAQUE = re.compile(r"""(?<=["'=: ])[A-Za-z0-9+/_\-]{32,}={0,2}(?=["'\s,;]|$)""", re.M)


def is_denied(path: str | PurePosixPath) -> bool:
    """True when the file's name marks it as secret-bearing (.env*, *.pem, id_*, *.key, credentials...)."""
    name = str(path).replace("\\", "/").rpartition("/")[2]
    if name in _DENY_EXACT or name.endswith(_DENY_SUFFIXES) or name.startswith(_DENY_PREFIXES):
        return True
    if "credentials" in name and name.endswith(".json"):
        return True
    return name.startswith("id_") and _SSH_KEY.match(name) is not None


def entropy(value: str) -> float:
    """Shannon entropy of a string, in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_random(value: str, threshold: float) -> bool:
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    return has_digit and has_alpha and entropy(value) >= threshold


def _redact_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    # code like `token = get_token()` or `password=password` is not a secret: demand randomness
    if not _looks_random(value, 3.0) or (value.isidentifier() and not any(c.isdigit() for c in value)):
        return match.group(0)
    return match.group("name") + match.group("sep") + match.group("quote") + REDACTED


def _redact_opaque(match: re.Match[str]) -> str:
    value = match.group(0)
    return REDACTED if _looks_random(value, 4.2) else value


def redact(text: str) -> str:
    """Replace secret-shaped strings in `text` with [REDACTED]."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _ASSIGNMENT.sub(_redact_assignment, text)
    return _OPAQUE.sub(_redact_opaque, text)
