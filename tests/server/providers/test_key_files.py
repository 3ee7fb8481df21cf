"""A key file holds one key on one line; anything else is an error that names the file and never shows its content.

Before: ``api_key_file = "/etc/shadow"`` read the whole file as a key; the SDK's "illegal header value" error
carried it (newlines escaped as ``\\n``, which the scrubber missed) into the delegate error, ``doctor`` and
``delegation.error``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import anyio
import pytest
from mcp import Client
from sqlalchemy import Engine
from sqlmodel import select

from server.config import load_config
from server.doctor import DoctorContext, run_checks
from server.doctor.providers import check_providers
from server.providers.base import MissingKeyError
from server.providers.keys import read_key_file
from server.settings import Settings
from server.store.models import Delegation, ProviderEvent
from server.tools import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI
from tests.server.recorded import recorded

pytestmark = pytest.mark.anyio

SHADOW = (
    "root:$6$rounds=5000$saltsaltsalt$hashhashhashhashhashhashhashhash:19000:0:99999:7:::\n"
    "alice:$y$j9T$secretsaltvalue$anotherlongcrypthashvalue0123456789:19000:0:99999:7:::\n"
)
FRAGMENTS = ("saltsaltsalt", "hashhashhash", "secretsaltvalue", "anotherlongcrypthash", "root:", "alice:")


def _leaks(text: str) -> list[str]:
    return [fragment for fragment in FRAGMENTS if fragment in text]


@pytest.fixture
def shadow_config(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user config whose key file is not a key; its provider, like the real API, echoes a wrong key in its 401."""
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW)
    config = tmp_path / "mine.toml"
    with FakeOpenAI(models=["m"], api_key="sk-the-right-key-0123456789") as fake:
        config.write_text(
            f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_file = "{shadow}"\nmodels = ["m"]\n'
        )
        monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
        yield shadow


async def test_a_key_file_that_is_not_one_token_line_is_named_in_every_error_and_never_shown(
    shadow_config: Path, engine: Engine, tmp_path: Path
) -> None:
    server = build_server(Settings(), load_config(), SessionOptions(store=engine, roots=[tmp_path], ingest=False))
    with anyio.fail_after(60):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "hi", "model": "acme:m"})
    text = json.dumps(result.model_dump(mode="json"))
    assert result.is_error and str(shadow_config) in text and _leaks(text) == []
    with recorded(engine) as db:
        stored = [row.model_dump_json() for row in db.exec(select(Delegation))]
        stored += [row.model_dump_json() for row in db.exec(select(ProviderEvent))]
    assert stored and all(_leaks(row) == [] for row in stored)
    assert any(str(shadow_config) in row for row in stored)
    checks = await anyio.to_thread.run_sync(run_checks, DoctorContext(settings=Settings()), [check_providers])
    doctor = json.dumps([asdict(c) for c in checks])
    assert str(shadow_config) in doctor and _leaks(doctor) == []


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("two\nlines-of-key\n", "one line"),
        ("sk-has a space", "one line"),
        ("", "empty"),
        ("k" * 5000, "larger than"),
        (b"\xff\xfe-not-text", "one line"),
    ],
)
def test_read_key_file_refuses_anything_but_one_line_of_token_characters(
    tmp_path: Path, content: str | bytes, why: str
) -> None:
    path = tmp_path / "key"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(MissingKeyError) as caught:
        read_key_file("acme", path)
    assert str(path) in str(caught.value) and why in str(caught.value)
    assert "lines-of-key" not in str(caught.value) and "kkkkkkkk" not in str(caught.value)


def test_a_key_file_of_one_line_gives_the_key_without_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("sk-proj-Abc_123.def~+/=\n")
    assert read_key_file("acme", path) == "sk-proj-Abc_123.def~+/="


async def test_the_scrubber_catches_a_key_escaped_by_json_or_repr(home: Path, tmp_path: Path) -> None:
    from server.config import SwitchboardConfig
    from server.providers.registry import Registry

    odd = 'sk-line-one\nline-two"quoted"-0123456789'
    config = SwitchboardConfig.model_validate(
        {"providers": {"acme": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "ACME", "models": ["m"]}}}
    )
    with FakeOpenAI(models=["m"]):
        registry = Registry(config, environ={"ACME": odd}, cwd=tmp_path)
        registry.get("acme")
        for shown in (odd, json.dumps(odd), repr(odd), json.dumps(json.dumps(odd))):
            scrubbed = registry.scrub(f"error: {shown} and more")
            assert "line-one" not in scrubbed and "line-two" not in scrubbed, scrubbed
        await registry.aclose()
