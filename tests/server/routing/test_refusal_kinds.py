"""A refused delegate call is recorded under its kind and never counts as the model failing (issue 18, item 2).

Before: a call refused by a budget, by its own ``max_cost_usd``, with every breaker open or with no time left
before the client's deadline raised its error and left no ``delegation`` row: ``stats`` and the Delegations page
did not show it happened. Each is now a $0 row with its kind, outside ``routing_stat``, provider health and the
success rate, and ``switchboard relearn`` agrees.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from sqlmodel import Session, select

from server.analytics.delegation_items import delegation_items
from server.store.database import make_engine, migrate
from server.store.models import Delegation
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.routing.test_failure_kinds import SWITCHBOARD, reports, routing_stats, server_params, stats_text

pytestmark = pytest.mark.anyio

BASE = (
    '[providers.acme]\nbase_url = "{url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
    "prices = {{ model-a = {{ input_per_mtok = 1.0, output_per_mtok = 2.0 }} }}\n"
    '[routing]\ndefault = ["acme:model-a"]\nlearn = false\n'
)


async def call(params: StdioServerParameters, *arguments: dict[str, Any]) -> list[bool]:
    """Each call's ``is_error``, in one MCP session."""
    errors: list[bool] = []
    async with Client(params, read_timeout_seconds=60) as client:
        for index, extra in enumerate(arguments):
            answer = await client.call_tool("delegate", {"task": f"task {index}", "task_type": "general", **extra})
            errors.append(answer.is_error)
    return errors


def rows(url: str) -> list[Delegation]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.exec(select(Delegation).order_by(Delegation.id)))  # pyright: ignore[reportArgumentType]
    finally:
        engine.dispose()


def outcomes_in_session(url: str, session_id: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            mine = db.exec(select(Delegation).where(Delegation.session_id == session_id).order_by(Delegation.id))  # pyright: ignore[reportArgumentType]
            # What session_detail and the Delegations page list for the session's attempts.
            return [(d.status, d.outcome) for d in delegation_items(db, list(mine))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["budget", "cost_cap", "circuit_open", "deadline"])
async def test_a_refused_call_lands_as_a_free_row_of_its_kind_and_leaves_success_rate_health_and_learning_alone(
    kind: str, database_url: str, home: Path, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    with FakeOpenAI(models=["model-a"]) as fake:
        fake.script("model-a", Reply(text="fine"), Reply.error(500), Reply(text="fine"))
        config = tmp_path / "switchboard.toml"
        extra = "[resilience]\nbreaker_failures = 1\n" if kind == "circuit_open" else ""
        config.write_text(BASE.format(url=fake.base_url) + extra)
        keys = {"ACME_KEY": "k", "CLAUDE_CODE_SESSION_ID": "sess-refused"}
        plain = server_params(config, database_url, home, **keys)
        refused: list[bool] = []
        with anyio.fail_after(180):
            # One answer and one provider fault: the model's record is 2 calls, 1 success, whatever comes next.
            if kind == "circuit_open":  # the breaker lives in the server process: the same session finds it open
                answered = await call(plain, {}, {}, {})
                answered, refused = answered[:2], answered[2:]
            else:
                answered = await call(plain, {}, {})
            assert answered == [False, True]
            if kind == "budget":
                capped = tmp_path / "capped.toml"
                capped.write_text(BASE.format(url=fake.base_url) + "[budgets]\ndaily_usd = 0.000001\n")
                refused = await call(server_params(capped, database_url, home, **keys), {})
            elif kind == "cost_cap":
                refused = await call(plain, {"max_cost_usd": 0.0000001})
            elif kind == "deadline":
                refused = await call(server_params(config, database_url, home, MCP_TOOL_TIMEOUT="300", **keys), {})
            text = await stats_text(plain)
    assert refused == [True]
    recorded = rows(database_url)
    last = recorded[-1]
    assert (last.model, last.status, last.cost_usd, last.session_id) == ("model-a", kind, 0.0, "sess-refused")
    assert [r.status for r in recorded].count(kind) == 1
    assert routing_stats(database_url)[("general", "acme:model-a")] == (2, 1)
    delegations, health = reports(database_url)
    assert delegations.success_rate == 0.5
    assert delegations.errors == {"server_error": 1} and delegations.refusals == {kind: 1}
    acme = next(h for h in health.providers if h.provider == "acme")
    assert acme.failures == 1
    assert "50% ok" in text and f"Refused, not the model's failure (not in the % ok): {kind} 1" in text
    assert ("server_error", "failed") in outcomes_in_session(database_url, "sess-refused")
    assert outcomes_in_session(database_url, "sess-refused")[-1] == (kind, "refused")
    with anyio.fail_after(120):
        relearned = await anyio.run_process(
            [SWITCHBOARD, "relearn"],
            env={**os.environ, "SWITCHBOARD_DATABASE_URL": database_url, "SWITCHBOARD_HOME": str(home)},
            check=False,
        )
    assert relearned.returncode == 0, relearned.stderr
    assert routing_stats(database_url)[("general", "acme:model-a")] == (2, 1)
