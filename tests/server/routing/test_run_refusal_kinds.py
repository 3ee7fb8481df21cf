"""A consensus member or solve candidate refused before any call lands as a $0 row of its kind (issue 18, item 2).

Before: a daily budget, the run's own ``max_cost_usd`` or a budget in ``solve`` refused the call and left no
``delegation`` row, only the run row: ``stats`` and the Delegations page did not show it. Each refusal is now a $0
row under its kind, linked to its run, outside ``routing_stat``, provider health and the success rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from server.store.database import make_engine, migrate
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.routing.test_failure_kinds import reports, routing_stats, server_params
from tests.server.routing.test_refusal_kinds import rows

pytestmark = pytest.mark.anyio

MODELS = ["model-a", "model-b", "model-j"]
PRICE = "{{ input_per_mtok = 1.0, output_per_mtok = 2.0 }}"
BASE = (
    '[providers.acme]\nbase_url = "{url}"\napi_key_env = "ACME_KEY"\n'
    'models = ["model-a", "model-b", "model-j"]\n'
    f"prices = {{{{ model-a = {PRICE}, model-b = {PRICE}, model-j = {PRICE} }}}}\n"
    '[routing]\ndefault = ["acme:model-a"]\nlearn = false\n'
)
BUDGET = "[budgets]\ndaily_usd = 0.000001\n"

QUESTION = {"question": "Is the sky blue?", "models": ["acme:model-a", "acme:model-b"], "judge": "acme:model-j"}
TASK = {"task": "Say hi.", "models": ["acme:model-a"], "judge": "acme:model-j", "max_calls": 2}
NO_TIME = {"MCP_TOOL_TIMEOUT": "300"}  # 0.3 s: less than a call needs, so none starts

CASES: dict[str, tuple[str, dict[str, Any], bool, str, str]] = {
    # name: (tool, arguments, under the daily budget, kind, role)
    "consensus_budget": ("consensus", QUESTION, True, "budget", "member"),
    "consensus_cost_cap": (
        "consensus",
        {**QUESTION, "max_cost_usd": 0.0000001},
        False,
        "cost_cap",
        "member",
    ),
    "solve_budget": ("solve", TASK, True, "budget", "solve"),
    "consensus_deadline": ("consensus", QUESTION, False, "deadline", "member"),
    "solve_deadline": ("solve", TASK, False, "deadline", "solve"),
}


async def call(params: StdioServerParameters, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    async with Client(params, read_timeout_seconds=60) as client:
        if tool == "delegate":
            for index in range(2):
                answer = await client.call_tool(tool, {"task": f"task {index}", "task_type": "general"})
                assert answer.is_error == (index == 1), answer.content
            return False, ""
        answer = await client.call_tool(tool, arguments)
        return answer.is_error, "\n".join(getattr(block, "text", "") for block in answer.content)


@pytest.mark.parametrize("case", list(CASES))
async def test_a_run_whose_calls_are_refused_records_each_as_a_free_row_of_its_kind_and_no_model_failure(
    case: str, database_url: str, home: Path, tmp_path: Path
) -> None:
    tool, arguments, budgeted, kind, role = CASES[case]
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    with FakeOpenAI(models=MODELS) as fake:
        fake.script("model-a", Reply(text="fine"), Reply.error(500))
        plain = tmp_path / "switchboard.toml"
        plain.write_text(BASE.format(url=fake.base_url))
        keys = {"ACME_KEY": "k", "CLAUDE_CODE_SESSION_ID": "sess-run-refused"}
        with anyio.fail_after(180):
            # One answer and one provider fault: the model's record is 2 calls, 1 success, whatever comes next.
            await call(server_params(plain, database_url, home, **keys), "delegate", {})
            before = routing_stats(database_url)
            asked_before = sum(fake.calls_for(model) for model in MODELS)
            config = plain
            if budgeted:
                config = tmp_path / "capped.toml"
                config.write_text(BASE.format(url=fake.base_url) + BUDGET)
            timeout = NO_TIME if kind == "deadline" else {}
            is_error, text = await call(server_params(config, database_url, home, **timeout, **keys), tool, arguments)
        asked = sum(fake.calls_for(model) for model in MODELS) - asked_before
    assert asked == 0, "a refused run asks no model"
    assert is_error or tool == "solve", text
    recorded = rows(database_url)
    refused = [row for row in recorded if row.status == kind]
    assert refused, f"no {kind} row: {[(r.model, r.status, r.role) for r in recorded]}"
    expected = ["model-a", "model-b"] if tool == "consensus" else ["model-a"]
    assert sorted(row.model for row in refused) == expected
    for row in refused:
        assert (row.cost_usd, row.role, row.session_id) == (0.0, role, "sess-run-refused")
        if tool == "consensus":
            assert row.consensus_run_id is not None and row.consensus_run_id == row.request_id
        else:
            assert row.solve_node_id is not None
    assert routing_stats(database_url) == before
    assert before[("general", "acme:model-a")] == (2, 1)
    delegations, health = reports(database_url)
    assert delegations.success_rate == 0.5
    assert delegations.errors == {"server_error": 1} and delegations.refusals == {kind: len(expected)}
    acme = next(h for h in health.providers if h.provider == "acme")
    assert acme.failures == 1


@pytest.mark.parametrize(("tool", "arguments", "role"), [("consensus", QUESTION, "member"), ("solve", TASK, "solve")])
async def test_a_run_whose_provider_breaker_is_open_records_free_circuit_open_rows_and_no_model_failure(
    tool: str, arguments: dict[str, Any], role: str, database_url: str, home: Path, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    with FakeOpenAI(models=MODELS) as fake:
        fake.script("model-a", Reply(text="fine"), Reply.error(500))
        config = tmp_path / "switchboard.toml"
        config.write_text(BASE.format(url=fake.base_url) + "[resilience]\nbreaker_failures = 1\n")
        params = server_params(config, database_url, home, ACME_KEY="k", CLAUDE_CODE_SESSION_ID="sess-breaker")
        with anyio.fail_after(180):
            # The breaker lives in the server process: the same session finds it open after the provider fault.
            async with Client(params, read_timeout_seconds=60) as client:
                for index in range(2):
                    answer = await client.call_tool("delegate", {"task": f"task {index}", "task_type": "general"})
                    assert answer.is_error == (index == 1), answer.content
                asked_before = sum(fake.calls_for(model) for model in MODELS)
                await client.call_tool(tool, arguments)
        assert sum(fake.calls_for(model) for model in MODELS) == asked_before, "an open breaker asks no model"
    run_rows = [row for row in rows(database_url) if row.role is not None]
    assert run_rows, "the run recorded no row"
    assert {(row.status, row.cost_usd, row.role) for row in run_rows} == {("circuit_open", 0.0, role)}
    assert routing_stats(database_url)[("general", "acme:model-a")] == (2, 1)
    delegations, health = reports(database_url)
    assert delegations.success_rate == 0.5 and delegations.errors == {"server_error": 1}
    assert next(h for h in health.providers if h.provider == "acme").failures == 1
