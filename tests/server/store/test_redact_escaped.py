"""Secrets inside escaped text are redacted too: an error message or a log line often carries a payload that was
JSON-encoded once or twice (``\\"api_key\\": \\"...\\"``) or shows its newlines as ``\\n``.

Before: ``out\\nsk-proj-...`` kept the key (the ``n`` of ``\\n`` counted as a token character before ``sk-``), and
the doubly JSON-encoded ``{"api_key": ...}`` or ``{"password": ...}`` kept the value.
"""

from __future__ import annotations

import json

import pytest

from server.redact import redact_text

KEY = "sk-proj-abcdefghijklmnopqrstu"


@pytest.mark.parametrize(
    "shown",
    [
        f"out\\n{KEY} end",
        f"a\\t{KEY}",
        f"line\\r\\n{KEY}",
        json.dumps(json.dumps({"api_key": "abcd1234efghXYZ"})),
        json.dumps(json.dumps({"password": "hunter2hunter2"})),
        json.dumps(json.dumps(json.dumps({"token": "tok-abcdefgh1234"}))),
        "x\\nghp_abcdefghijklmnopqrstuvwxyz0123",
    ],
)
def test_a_secret_inside_escaped_text_is_redacted(shown: str) -> None:
    redacted = redact_text(shown)
    for value in (KEY, "abcd1234efghXYZ", "hunter2hunter2", "tok-abcdefgh1234", "ghp_abcdefghijklmnop"):
        assert value not in redacted, redacted
    assert "[REDACTED" in redacted


def test_an_escaped_value_keeps_the_escaped_quote_that_closes_it() -> None:
    shown = json.dumps(json.dumps({"password": "hunter2hunter2", "n": 1}))
    assert json.loads(json.loads(redact_text(shown))) == {"password": "[REDACTED]", "n": 1}


def test_a_backslash_inside_a_value_does_not_end_it() -> None:
    assert redact_text("password=abc\\defghij12345") == "password=[REDACTED]"
