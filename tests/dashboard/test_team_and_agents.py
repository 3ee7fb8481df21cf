"""The page across agents and people: the agent and all/me filters on Sessions, the Team page once two people
write to the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from dashboard import build_app
from server.settings import Settings
from server.store.models import AgentSession, Delegation, utcnow
from server.team import current_identity


@pytest.fixture
def client(seeded: Engine, settings: Settings) -> Iterator[TestClient]:
    app = build_app(seeded, settings, ingest=False, serve_stale_s=0)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def _add(engine: Engine, *rows: Any) -> None:
    with Session(engine) as db:
        db.add_all(rows)
        db.commit()


def test_sessions_filter_by_agent_and_by_whose(client: TestClient, seeded: Engine) -> None:
    now = utcnow()
    _add(
        seeded,
        AgentSession(session_id="codex-s", agent="codex", user="zoe", host="z1", started_at=now, project="api"),
        AgentSession(session_id="gem-s", agent="gemini", started_at=now, project="web"),  # stamped: this machine
    )
    codex = client.get("/api/sessions?agent=codex").json()["sessions"]
    assert [s["session_id"] for s in codex] == ["codex-s"] and codex[0]["agent"] == "codex"
    mine = {s["session_id"] for s in client.get("/api/sessions?who=me").json()["sessions"]}
    assert "gem-s" in mine and "codex-s" not in mine
    page = client.get("/sessions?agent=gemini").text
    assert "gem-s"[:8] in page and "codex-s" not in page


def test_the_team_page_appears_with_a_second_person_and_shows_each(client: TestClient, seeded: Engine) -> None:
    me = current_identity().user
    assert "/team" not in client.get("/").text.split("<main")[0]  # one person so far (the seed is all this machine's)
    now = utcnow()
    _add(
        seeded,
        AgentSession(session_id="zoe-1", user="zoe", host="z1", started_at=now, project="api", cost_usd=2.5),
        Delegation(
            session_id="zoe-1",
            request_id="r-zoe",
            provider="groq",
            model="m",
            status="ok",
            cost_usd=0.01,
            claude_ask_tokens=0,  # measured, and nothing: the saving is the call's own cost, negative
            claude_read_tokens=0,
        ),
    )
    assert 'href="/team"' in client.get("/").text
    team = client.get("/api/team?days=30").json()["report"]
    people = {p["user"]: p for p in team["people"]}
    assert set(people) == {me, "zoe"}
    assert (people["zoe"]["sessions"], people["zoe"]["cost_usd"], people["zoe"]["delegations"]) == (1, 2.5, 1)
    assert people["zoe"]["saved_usd"] == pytest.approx(-0.01)  # its model has no Claude price to save against
    assert {"user": "zoe", "project": "api", "sessions": 1, "cost_usd": 2.5, "delegations": 1} in team["by_project"]
    assert "zoe" in client.get("/team").text
