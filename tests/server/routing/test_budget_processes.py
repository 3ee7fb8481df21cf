"""A daily cap holds when two real server processes delegate at once: reservations live in the store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.store.models import BudgetReservation, Delegation
from tests.fakes.openai_api import FakeOpenAI, Reply

pytestmark = pytest.mark.anyio

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))
PER_CALL_USD = 0.01  # 100 output tokens at $100 per million; input is free
CAP_USD = 0.035  # fits three calls


def server_params(config: Path, database_url: str, home: Path) -> StdioServerParameters:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SWITCHBOARD_HOME": str(home),
        "SWITCHBOARD_CONFIG": str(config),
        "SWITCHBOARD_DATABASE_URL": database_url,
        "ACME_KEY": "k",
    }
    return StdioServerParameters(command=SWITCHBOARD, args=["serve", "--no-ingest"], env=env)


async def six_calls(params: StdioServerParameters, results: list[Any]) -> None:
    async with Client(params, read_timeout_seconds=60) as client:

        async def one(index: int) -> None:
            arguments = {"task": f"task {index}", "task_type": "general", "max_tokens": 100}
            results.append(await client.call_tool("delegate", arguments))

        async with anyio.create_task_group() as group:
            for index in range(6):
                group.start_soon(one, index)


async def test_twelve_concurrent_delegates_from_two_processes_answer_at_most_three_under_a_cap_of_three(
    engine: Engine, database_url: str, home: Path, tmp_path: Path
) -> None:
    with FakeOpenAI(models=["model-a"]) as fake:
        # Each answer takes a while and uses its whole allowance: the calls overlap and cost their worst case.
        fake.script("model-a", *[Reply(output_tokens=100, delay_s=0.5) for _ in range(12)])
        config = tmp_path / "switchboard.toml"
        config.write_text(
            f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
            "[providers.acme.prices.model-a]\ninput_per_mtok = 0.0\noutput_per_mtok = 100.0\n"
            f"[budgets]\ndaily_usd = {CAP_USD}\n"
        )
        results: list[Any] = []
        with anyio.fail_after(120):
            async with anyio.create_task_group() as group:
                for _ in range(2):
                    group.start_soon(six_calls, server_params(config, database_url, home), results)
    answered = [r for r in results if not r.is_error]
    refused = [r for r in results if r.is_error]
    assert len(results) == 12
    assert 1 <= len(answered) <= 3
    assert all("daily cap" in r.content[0].text for r in refused), [r.content[0].text for r in refused]
    with Session(engine) as db:
        costs = db.exec(select(Delegation.cost_usd).where(col(Delegation.status) == "ok")).all()
        left = db.exec(select(BudgetReservation)).all()
    assert len(costs) == len(answered)
    assert sum(c or 0.0 for c in costs) <= CAP_USD
    assert left == []  # every reservation was settled by its call's rows
