"""Secrets out of hook payloads before anything reaches the store.

Claude Code hands hooks whatever went by: prompts, tool inputs, command output. Those carry API keys and
tokens often enough that every string of a payload (dict keys included) is scrubbed of the well-known
credential shapes before ingest writes it anywhere.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REDACTED", "may_hold_secrets", "redact", "redact_text", "strip_nul"]

REDACTED = "[REDACTED]"

_SECRET_WORDS = r"(?:api[_\-]?key|secret|token|password|passwd|authorization)"
# A dict key naming a secret: "password", "client_secret", "GITHUB_TOKEN", "x-api-key" (not "max_tokens").
_SECRET_KEY = re.compile(rf"(?i)(?:^|[_\-.]){_SECRET_WORDS}$")

# Ordered: specific shapes before the generic ones they overlap (sk-ant- before sk-).
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private-key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*\Z)"),
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{8,}"),
    ("api-key", r"\bsk-[A-Za-z0-9_\-]{16,}"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    ("aws-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("slack-token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
    ("bearer", r"\bBearer\s+[A-Za-z0-9._~+/=\-]{8,}"),
    # NAME=value where the name says what it holds: OPENAI_API_KEY=..., password: ..., "client_secret": "...";
    # the value needs a letter, so "token: 12345678" (a count on a page) is left alone.
    (
        "assignment",
        rf"(?i:\b[A-Za-z0-9_.\-]*{_SECRET_WORDS}\b)[\"']?\s*[=:]\s*[\"']?"
        rf"(?:(?:Basic|Bearer|Token|Digest)\s+)?(?P<value>(?=[^\s\"',;{{}}]*[A-Za-z])[^\s\"',;{{}}]{{8,}})",
    ),
    # scheme://user:password@host (database URLs in commands)
    ("url-password", r"(?<=://)[^/\s:@]+:(?P<password>[^/\s@]{3,})@"),
)

_COMBINED = re.compile("|".join(f"(?P<g{i}>{p})" for i, (_, p) in enumerate(_PATTERNS)), re.DOTALL)
_KINDS = {f"g{i}": kind for i, (kind, _) in enumerate(_PATTERNS)}
# Cheap pre-check: no string without one of these substrings can match, and most strings have none.
# Lower case: the text is lowered before the check (the assignment names are case-insensitive).
_HINTS = (
    *("private key", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "akia", "asia", "xox", "bearer"),
    *("key", "secret", "token", "passw", "authorization", "://"),
)
_MIN_SECRET = 12


def _replace(match: re.Match[str]) -> str:
    kind = _KINDS[match.lastgroup or ""]
    if kind == "bearer":
        return f"Bearer {REDACTED}"
    if kind in ("assignment", "url-password"):
        group = "value" if kind == "assignment" else "password"  # keep the name, hide the value
        start, end = match.start(group) - match.start(), match.end(group) - match.start()
        return match.group(0)[:start] + REDACTED + match.group(0)[end:]
    return f"[REDACTED:{kind}]"


def redact_text(text: str) -> str:
    """``text`` with every recognised secret replaced by a ``[REDACTED:kind]`` marker."""
    if len(text) < _MIN_SECRET:
        return text
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    return _COMBINED.sub(_replace, text)


def may_hold_secrets(json_text: str) -> bool:
    """False when no string inside this JSON document can hold a secret: ``redact`` may be skipped.

    A ``\\u`` escape could spell a hint in disguise, so its presence alone answers True.
    """
    lowered = json_text.lower()
    return "\\u" in lowered or any(hint in lowered for hint in _HINTS)


def redact(value: Any) -> Any:
    """A copy of a decoded JSON value with secrets redacted in every string, dict keys included."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_text(str(k)): _redact_field(str(k), v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [redact(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def _redact_field(key: str, value: Any) -> Any:
    # {"password": "hunter2hunter2"}: the key says it is a secret whatever the value looks like.
    if isinstance(value, str) and len(value) >= 8 and _SECRET_KEY.search(key):
        return REDACTED
    return redact(value)


def strip_nul(value: Any) -> Any:
    """A copy of a decoded JSON value without NUL characters, which PostgreSQL text cannot store."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): strip_nul(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [strip_nul(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value
