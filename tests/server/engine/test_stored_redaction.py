"""What ``delegate`` and ``consensus`` store is redacted like ingest's rows; what they send a provider is not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from server.config import SwitchboardConfig
from server.settings import Settings
from server.store.models import ConsensusRun, Delegation, ProviderEvent, StoredOutput, ThreadMessage
from server.store.stored_text import redact_rows
from server.tools.app import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI, Reply

pytestmark = pytest.mark.anyio

API_KEY = "sk-proj-Zq8vN3xL0pR7tY2wK5mB9cD4"
TASK = f"why does OPENAI_API_KEY={API_KEY} fail?"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a", "model-b"]) as server:
        yield server


def config_for(fake: FakeOpenAI) -> SwitchboardConfig:
    provider = {"kind": "openai-compatible", "base_url": fake.base_url, "models": ["model-a", "model-b"]}
    return SwitchboardConfig.model_validate(
        {
            "providers": {"acme": provider},
            "routing": {"default": ["acme:model-a", "acme:model-b"]},
            # A small output limit: long answers are cut and kept whole in stored_output.
            "output": {"max_output_tokens": 1_000},
        }
    )


async def call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, tool: str, arguments: dict[str, Any]
) -> Any:
    server = build_server(
        settings, config_for(fake), SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False)
    )
    with anyio.fail_after(30):
        async with Client(server) as client:
            result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result


def stored_text(engine: Engine) -> str:
    """Every stored row of the engines' tables, as one text to search."""
    with Session(engine) as db:
        rows: list[SQLModel] = []
        for table in (ThreadMessage, StoredOutput, ConsensusRun, Delegation, ProviderEvent):
            rows.extend(db.exec(select(table)).all())
    return "\n".join(json.dumps(row.model_dump(mode="json")) for row in rows)


async def test_a_delegated_task_its_files_and_its_answer_are_stored_redacted_yet_sent_whole(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "deploy.pem").write_text(PRIVATE_KEY)
    long_answer = f"use {GITHUB_TOKEN} instead\n" + "padding line\n" * 2_000
    fake.script("model-a", Reply(text=long_answer))
    result = await call(settings, engine, fake, tmp_path, "delegate", {"task": TASK, "files": ["deploy.pem"]})
    assert result.structured_content["output_id"] is not None  # the answer was cut, and kept whole

    sent = fake.requests[-1]["messages"][-1]["content"]
    assert API_KEY in sent and "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo" in sent  # the provider gets what the user sent
    stored = stored_text(engine)
    assert "OPENAI_API_KEY=[REDACTED]" in stored
    assert "[REDACTED:private-key]" in stored and "[REDACTED:github-token]" in stored
    for secret in (API_KEY, "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo", GITHUB_TOKEN):
        assert secret not in stored


async def test_a_consensus_question_and_its_answers_are_stored_redacted(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {"question": TASK, "models": ["acme:model-a", "acme:model-b"], "strategy": "vote"}
    await call(settings, engine, fake, tmp_path, "consensus", arguments)
    assert all(API_KEY in request["messages"][-1]["content"] for request in fake.requests)
    with Session(engine) as db:
        (run,) = db.exec(select(ConsensusRun)).all()
    assert run.question == "why does OPENAI_API_KEY=[REDACTED] fail?"
    assert API_KEY not in stored_text(engine)


def test_every_free_text_column_is_redacted_and_the_rest_left_alone() -> None:
    row = Delegation(request_id="r", provider="acme", model="m", status="auth", error=f"401: bad key {API_KEY}")
    event = ProviderEvent(provider="acme", event="error", detail=f"Incorrect API key provided: {API_KEY}")
    redact_rows([row, event])
    assert row.error == "401: bad key [REDACTED:api-key]"
    assert event.detail is not None and API_KEY not in event.detail
    assert (row.request_id, row.provider, row.model, row.status) == ("r", "acme", "m", "auth")
