"""Secrets are scrubbed from every string of a payload; ordinary text is left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.store.redact import redact, redact_text

SECRETS = {
    "anthropic-key": "sk-ant-api03-" + "x9Y8z7W6" * 11,
    "api-key": "sk-proj-" + "AbCd1234" * 6,
    "github-token": "ghp_" + "R4nd0mT0k3n" * 4,
    "github-pat": "github_pat_11ABCDEFG0_" + "q" * 40,
    "oauth": "gho_" + "1a2B3c4D5e" * 4,
    "aws-key": "AKIAIOSFODNN7EXAMPLE",
    "slack-token": "xoxp-2048-4096-abcdef123456",
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_each_known_secret_shape_is_replaced_in_running_text(name: str) -> None:
    secret = SECRETS[name]
    out = redact_text(f"curl -u {secret}; echo done")
    assert secret not in out
    assert out.startswith("curl -u [REDACTED:") and out.endswith("; echo done")


def test_anthropic_keys_are_named_as_such_not_as_generic_keys() -> None:
    assert redact_text(SECRETS["anthropic-key"]) == "[REDACTED:anthropic-key]"


def test_bearer_tokens_keep_the_word_bearer() -> None:
    assert redact_text("Authorization: Bearer abc.DEF-123_456=") == "Authorization: Bearer [REDACTED]"


def test_private_key_blocks_are_removed_whole_even_when_cut_off() -> None:
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    assert redact_text(f"before\n{block}\nafter") == "before\n[REDACTED:private-key]\nafter"
    truncated = "cat id_rsa\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3"
    assert redact_text(truncated) == "cat id_rsa\n[REDACTED:private-key]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("export OPENAI_API_KEY=abcd1234efgh5678 && run", "export OPENAI_API_KEY=[REDACTED] && run"),
        ("DB_PASSWORD='correct horse'", "DB_PASSWORD='correct horse'"),  # a space ends the value: too short
        ("password: hunter2hunter2", "password: [REDACTED]"),
        ('{"client_secret": "s3cr3t-value-here"}', '{"client_secret": "[REDACTED]"}'),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [REDACTED]"),
        ("psql postgresql://app:s3cret@db:5432/x", "psql postgresql://app:[REDACTED]@db:5432/x"),
    ],
)
def test_values_named_as_secrets_are_redacted_and_their_names_kept(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_dict_values_under_secret_names_are_redacted_whatever_they_look_like() -> None:
    payload = {"password": "hunter2hunter2", "x-api-key": "zzzzzzzzzzzz", "max_tokens": "abcdefghijkl", "token": 5}
    assert redact(payload) == {
        "password": "[REDACTED]",
        "x-api-key": "[REDACTED]",
        "max_tokens": "abcdefghijkl",
        "token": 5,
    }


def test_ordinary_text_that_looks_a_little_like_a_secret_is_kept() -> None:
    for text in (
        "use the sk-learn package",
        "task-ant colony",
        "ghost_writer and github_pages",
        "Bearer",
        "the Bearer of bad news",
        "AKIA is a prefix",
        "xoxo, friends",
        "max_tokens=100000000 and TOKEN_COUNT=123456789 and token: 123456789",
        "the key=short one",
        "git clone https://github.com/x/y and https://example.com/a:b@c",
        "",
    ):
        assert redact_text(text) == text


def test_keys_and_nested_values_are_redacted_and_other_types_kept() -> None:
    secret = SECRETS["github-token"]
    payload = {"tool_input": {secret: [1, 2.5, True, None, {"deep": f"x {secret} y"}]}, "n": 3}
    out = redact(payload)
    assert out == {
        "tool_input": {"[REDACTED:github-token]": [1, 2.5, True, None, {"deep": "x [REDACTED:github-token] y"}]},
        "n": 3,
    }
    assert payload["tool_input"][secret][4]["deep"] == f"x {secret} y"  # the input is not modified


@settings(deadline=None)  # a loaded CI machine must not turn slowness into a failure
@given(prefix=st.text(max_size=40), suffix=st.text(max_size=40), name=st.sampled_from(sorted(SECRETS)))
def test_a_secret_never_survives_whatever_surrounds_it(prefix: str, suffix: str, name: str) -> None:
    secret = SECRETS[name]
    out = redact_text(f"{prefix} {secret} {suffix}")
    assert secret not in out
    assert redact_text(out) == out  # redacting twice changes nothing more
