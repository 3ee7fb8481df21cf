"""The shapes of secrets that leak through hook payloads, as linear regular expressions.

Every rule is linear in the text. Python's ``re`` backtracks, so no pattern may start with an unbounded run
that something must follow: ``[A-Za-z0-9_.-]*token`` tried at every offset of "api key list: 1.1.1..." was
quadratic (40 KB took 87 s). So each pattern starts with its literal prefix (which ``re`` finds with a fast
substring search instead of trying the pattern at every offset), a lookbehind just after it checks that no
token character precedes (a run is entered once, at its start), and runs are possessive (``*+``, ``{n,}+``):
a failed match gives up at once instead of retrying shorter runs. ``bench/bench_redact.py`` measures it.

Rules run one after another, each only when its lower-case hint occurs in the text; in this order, specific
shapes before the generic ones they overlap (``sk-ant-`` before ``sk-``, a JWT before ``token=``).

Why not ``detect-secrets``' rule set: measured on the same realistic tool output its default rules cost
~34 s/MB line by line (19x this module) and reported 22,590 high-entropy false positives on 0.2 MB of git
diff; with the entropy and keyword plugins off it still took ~4.9 s/MB. It reports findings per line, not
spans to replace, and has no Hugging Face or Google API key rule. Its regex shapes informed the ones here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["HINTS", "RULES", "SECRET_KEY", "SecretRule"]

_T = r"[A-Za-z0-9_\-]"  # a token character: none may precede a token's prefix
_SECRET_WORDS = (
    r"(?:api[_\-]?key|secret[_\-]?access[_\-]?key|private[_\-]?key[_\-]?id"
    r"|secret|token|password|passwd|authorization)"
)
SECRET_KEY = re.compile(rf"(?i)(?:^|[_\-.]){_SECRET_WORDS}$")
"""A dict key naming a secret: "password", "client_secret", "GITHUB_TOKEN", "x-api-key" (not "max_tokens")."""


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One shape of secret: its pattern, the hints one of which every match contains, what to keep."""

    kind: str
    hints: tuple[str, ...]
    pattern: re.Pattern[str]
    value_group: str | None = None
    """When set, only this group is replaced: the name before it stays (``password: [REDACTED]``)."""


def _token(kind: str, prefix: str, body: str, *hints: str) -> SecretRule:
    # prefix first (a fast literal search), then the lookbehind: no token character right before the prefix, unless
    # it is the letter of an escape (``\nsk-...`` in an escaped text: the ``n`` ends a newline, it starts no token).
    pattern = re.compile(f"{prefix}(?:(?<!{_T}{prefix})|(?<=\\\\[nrt]{prefix})){body}")
    return SecretRule(kind, hints or (prefix.lower(),), pattern)


_ASSIGNMENT = re.compile(
    # NAME=value where the name says what it holds: OPENAI_API_KEY=..., password: ..., "client_secret": "...";
    # the value needs a letter, so "token: 12345678" (a count on a page) is left alone. The match starts at
    # the word (the name's start is kept anyway), so a run of name characters is never rescanned.
    # A quote may be escaped once or more (``\\"`` in JSON inside JSON); a backslash in the value is kept unless it
    # starts an escaped quote, backslash or newline, which ends the value.
    rf"(?i:{_SECRET_WORDS})\b(?:\\*+[\"'])?+\s*+[=:]\s*+(?:\\*+[\"'])?+(?:(?:Basic|Bearer|Token|Digest)\s++)?"
    r"(?P<value>(?=[^\s\"',;{}A-Za-z]*+[A-Za-z])(?:[^\s\"',;{}\\]|\\(?![\\\"'nrt])){8,}+)"
)

RULES: tuple[SecretRule, ...] = (
    SecretRule(
        "private-key",
        ("private key",),
        re.compile(
            r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
            re.DOTALL,
        ),
    ),
    _token("anthropic-key", "sk-ant-", rf"{_T}{{8,}}+"),
    _token("api-key", "sk-", rf"{_T}{{16,}}+"),
    _token(
        "stripe-key", "(?:sk|rk)_(?:live|test)_", "[A-Za-z0-9]{16,}+", "sk_live_", "rk_live_", "sk_test_", "rk_test_"
    ),
    _token("github-token", "gh[pousr]_", "[A-Za-z0-9]{20,}+", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    _token("github-token", "github_pat_", "[A-Za-z0-9_]{20,}+"),
    _token("gitlab-token", "glpat-", rf"{_T}{{20,}}+"),
    _token("huggingface-token", "hf_", "[A-Za-z0-9]{30,}+"),
    _token("google-api-key", "AIza", rf"{_T}{{35}}(?!{_T})"),
    _token("aws-key", "A(?:KIA|SIA)", r"[0-9A-Z]{16}\b", "akia", "asia"),
    _token("slack-token", "xox[abprs]-", r"[A-Za-z0-9\-]{10,}+", "xox"),
    SecretRule(
        "slack-webhook",
        ("hooks.slack.com",),
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{10,}+"),
    ),
    _token("jwt", "eyJ", rf"{_T}{{8,}}+\.eyJ{_T}{{8,}}+\.{_T}*+", "eyj"),
    SecretRule(
        "bearer", ("bearer",), re.compile(r"Bearer(?<!\wBearer)\s++(?P<value>[A-Za-z0-9._~+/=\-]{8,}+)"), "value"
    ),
    # --password x, --token=x: whatever follows such a flag is the secret, however short.
    SecretRule(
        "flag",
        ("--pass", "--token", "--secret", "--api"),
        re.compile(
            rf"--(?<!{_T}--)(?i:password|passwd|pass|token|secret|api-key|apikey)(?:=|\s++)"
            r"(?P<value>\"[^\"\n]*+\"|'[^'\n]*+'|[^\s\"']++)"
        ),
        "value",
    ),
    # curl -u user:password (also --user): the user stays, the password goes (-u scheme://... is a URL,
    # -u [REDACTED:kind] an earlier rule's marker).
    SecretRule(
        "user-password",
        ("-u",),
        re.compile(rf"-(?<!{_T}-)(?:u|-user)(?:=|\s++)[\"']?+[^\s:\"'/\[]++:(?!//)(?P<value>[^\s\"']++)"),
        "value",
    ),
    SecretRule("assignment", ("key", "secret", "token", "passw", "authorization"), _ASSIGNMENT, "value"),
    # scheme://user:password@host and scheme://:password@host (database URLs in commands)
    SecretRule("url-password", ("://",), re.compile(r"://[^/\s:@]*+:(?P<value>[^/\s@]{3,}+)@"), "value"),
)

HINTS: tuple[str, ...] = tuple(dict.fromkeys(hint for rule in RULES for hint in rule.hints))
"""Every hint of every rule, lower case: a text containing none of them holds no secret these rules see."""
