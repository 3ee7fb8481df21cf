"""A failure counts against a model only when the model failed (issue 18, item 2).

Before: a missing API key was recorded as ``auth`` and counted as the model failing, in ``routing_stat`` (so
learned routing avoided it once the key was back), in ``stats``' success rate and in provider health.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from sqlmodel import Session, select

from server.analytics.delegations import DelegationStats, delegation_stats
from server.analytics.health import HealthReport, provider_health
from server.analytics.window import Window
from server.outcomes import counts_for_model
from server.store.database import make_engine, migrate
from server.store.models import Delegation, RoutingStat
from tests.fakes.openai_api import FakeOpenAI, Reply

pytestmark = pytest.mark.anyio

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


def server_params(config: Path, url: str, home: Path, **keys: str) -> StdioServerParameters:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SWITCHBOARD_HOME": str(home),
        "SWITCHBOARD_CONFIG": str(config),
        "SWITCHBOARD_DATABASE_URL": url,
        "XDG_CONFIG_HOME": str(home / "xdg"),
        **keys,
    }
    return StdioServerParameters(command=SWITCHBOARD, args=["serve", "--no-ingest"], env=env)


async def delegate_times(params: StdioServerParameters, n: int) -> None:
    async with Client(params, read_timeout_seconds=60) as client:
        for index in range(n):
            answer = await client.call_tool("delegate", {"task": f"task {index}", "task_type": "general"})
            assert not answer.is_error, answer.content


async def stats_text(params: StdioServerParameters) -> str:
    async with Client(params, read_timeout_seconds=60) as client:
        result = await client.call_tool("stats", {"section": "delegations"})
        assert not result.is_error, result.content
        return "\n".join(getattr(block, "text", "") for block in result.content)


def reports(url: str) -> tuple[DelegationStats, HealthReport]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            window = Window.last_days(1)
            return delegation_stats(db, window), provider_health(db, window)
    finally:
        engine.dispose()


def routing_stats(url: str) -> dict[tuple[str, str], tuple[int, int]]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return {(r.task_type, r.model): (r.calls, r.successes) for r in db.exec(select(RoutingStat))}
    finally:
        engine.dispose()


def statuses(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return sorted((r.model, r.status) for r in db.exec(select(Delegation)))
    finally:
        engine.dispose()


async def test_a_missing_key_then_the_key_back_leaves_success_rate_health_and_learning_as_they_were(
    database_url: str, home: Path, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    with FakeOpenAI(models=["model-a", "model-b"]) as fake:
        fake.script("model-a", *[Reply(text="a") for _ in range(4)])
        config = tmp_path / "switchboard.toml"
        config.write_text(
            f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
            f'[providers.beta]\nbase_url = "{fake.base_url}"\napi_key_env = "BETA_KEY"\nmodels = ["model-b"]\n'
            '[routing]\ndefault = ["acme:model-a", "beta:model-b"]\nlearn = false\n'
        )
        with_key = server_params(config, database_url, home, ACME_KEY="k", BETA_KEY="k")
        without_key = server_params(config, database_url, home, BETA_KEY="k")
        with anyio.fail_after(180):
            await delegate_times(with_key, 1)
            before = routing_stats(database_url)
            await delegate_times(without_key, 3)  # acme has no key: each call falls back to beta
            after = routing_stats(database_url)
            text = await stats_text(with_key)
    assert statuses(database_url).count(("model-a", "missing_key")) == 3
    assert after[("general", "acme:model-a")] == before[("general", "acme:model-a")] == (1, 1)
    delegations, health = reports(database_url)
    routes = {(r.provider, r.model): r for r in delegations.by_route}
    assert routes[("acme", "model-a")].success_rate == 1.0 and delegations.success_rate == 1.0
    assert "100% ok" in text and "missing_key" in text  # still shown, as what it is
    acme = next(h for h in health.providers if h.provider == "acme")
    assert acme.failures == 0 and acme.error_rate == 0.0
    with anyio.fail_after(120):
        relearned = await anyio.run_process(
            [SWITCHBOARD, "relearn"],
            env={**os.environ, "SWITCHBOARD_DATABASE_URL": database_url, "SWITCHBOARD_HOME": str(home)},
            check=False,
        )
    assert relearned.returncode == 0, relearned.stderr
    assert routing_stats(database_url) == after


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        ("ok", True),
        ("server_error", True),
        ("rate_limited", True),
        ("timeout", True),
        ("malformed", True),
        ("connection", True),
        ("cli_error", True),
        ("missing_key", False),
        ("auth", False),
        ("unavailable", False),
        ("not_found", False),
        ("bad_request", False),
        ("circuit_open", False),
        ("skipped", False),
        ("budget", False),
        ("cost_cap", False),
        ("cancelled", False),
        ("deadline", False),
    ],
)
def test_only_provider_faults_and_answers_are_a_verdict_on_the_model(status: str, counts: bool) -> None:
    assert counts_for_model(status) is counts
