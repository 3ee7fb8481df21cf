"""Output JSON is strict: a non-finite number in the store comes out as null, never ``Infinity`` or ``NaN``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from dashboard import build_app
from server.cli import main
from server.json_output import dumps
from server.settings import Settings
from tests.server.analytics.seed import add, session, usage


def strict(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _seed_non_finite(engine: Engine) -> None:
    # As a store written before values were checked (or by an older switchboard on a shared PostgreSQL) may hold.
    add(
        engine,
        session("s-inf", cost_usd=math.inf),
        session("s-nan", 40, cost_usd=-math.inf),
        usage("s-inf", "claude-sonnet-4-5", 2, math.inf),
    )


def test_stats_json_writes_a_non_finite_cost_as_null(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_non_finite(engine)
    assert main(["stats", "--json", "--all", "--no-ingest"]) == 0
    data = strict(capsys.readouterr().out)
    assert {s["session_id"]: s["cost_usd"] for s in data["recent_sessions"]} == {"s-inf": None, "s-nan": None}


@pytest.mark.anyio
async def test_the_api_writes_a_non_finite_cost_as_null(engine: Engine, settings: Settings) -> None:
    _seed_non_finite(engine)
    app = build_app(engine, settings, token="api-token", ingest=False, serve_stale_s=0)
    transport = httpx.ASGITransport(app=app)
    headers = {"authorization": "Bearer api-token"}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", headers=headers) as client:
        for path in ("/api/overview", "/api/sessions"):
            response = await client.get(path)
            assert response.status_code == 200, path
            strict(response.text)


@given(st.recursive(st.floats() | st.none() | st.text(max_size=3), lambda inner: st.lists(inner, max_size=3)))
def test_dumps_never_writes_nan_or_infinity(value: Any) -> None:
    strict(dumps({"v": value}))
