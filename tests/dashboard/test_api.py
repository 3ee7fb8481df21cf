"""The JSON API and the server-rendered pages over a seeded store, through Starlette's TestClient."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from dashboard import build_app
from server.settings import Settings
from server.store.models import AgentSession, Delegation, Prompt, RawEvent, utcnow
from tests.dashboard.seed import ANSWER_TEXT, SESSION_A, SESSION_B, TASK_TEXT, XSS_PROMPT


@pytest.fixture
def client(seeded: Engine, settings: Settings) -> Iterator[TestClient]:
    # serve_stale_s=0: every answer reflects the store as it is (serving stale views is tested in test_cache).
    with TestClient(
        build_app(seeded, settings, ingest=False, serve_stale_s=0), base_url="http://127.0.0.1"
    ) as test_client:
        yield test_client


def get_json(client: TestClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


@pytest.fixture
def local_noon(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's zone set to one where it is about noon now.

    "Today" starts at local midnight and the seed's session A starts two hours before now: in the first two hours
    of a day it was yesterday's, and the test failed (00:13 UTC on a UTC machine).
    """
    offset = (12 - utcnow().hour + 12) % 24 - 12  # hours east of UTC, -12..11
    monkeypatch.setenv("TZ", f"SBZ{-offset:+d}")  # POSIX: a name of 3 letters, then hours west of UTC
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_noon")
def test_overview_spend_adds_sessions_cost_of_record_and_priced_delegations(client: TestClient) -> None:
    spend = {w["label"]: w for w in get_json(client, "/api/overview")["spend"]}
    # Session A (today, $1.25) and B (3 days ago, $0.40); delegations today: 0.00036 + 3 x 0.0004, one unpriced
    # local call and one failed attempt with no cost.
    assert spend["Today"]["sessions"] == 1
    assert spend["Today"]["session_cost_usd"] == pytest.approx(1.25)
    assert spend["7 days"]["session_cost_usd"] == pytest.approx(1.65)
    assert spend["30 days"]["delegation_cost_usd"] == pytest.approx(0.00156)
    assert spend["30 days"]["total_usd"] == pytest.approx(1.65 + 0.00156)
    assert spend["30 days"]["unpriced_delegation_calls"] == 2


def test_overview_lists_recent_sessions_with_ids_top_tools_and_provider_health(client: TestClient) -> None:
    view = get_json(client, "/api/overview")
    assert [s["session_id"] for s in view["recent_sessions"]] == [SESSION_A, SESSION_B]
    assert view["top_tools"][0]["tool_name"] == "Bash"
    assert view["top_tools"][0]["calls"] == 2
    groq = next(p for p in view["providers"] if p["provider"] == "groq")
    assert groq["breaker_opens"] == 1
    assert groq["failures"] == 1
    assert "method" in view["savings"]
    assert view["savings"]["delegation_rate"] is not None


def test_overview_page_shows_at_least_eight_characters_of_each_session_id(client: TestClient) -> None:
    html = client.get("/").text
    assert SESSION_A[:8] in html
    assert SESSION_B[:8] in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=login", [SESSION_A]),  # prompt text
        ("q=b5e6", [SESSION_B]),  # id prefix
        ("q=cli", [SESSION_B]),  # project
        ("project=webapp", [SESSION_A]),
        ("days=1", [SESSION_A]),
        ("q=%25", []),  # a LIKE wildcard typed by the user matches literally
        ("q=&project=&days=", [SESSION_A, SESSION_B]),  # empty fields are no filter
    ],
)
def test_sessions_can_be_searched_and_filtered(client: TestClient, query: str, expected: list[str]) -> None:
    view = get_json(client, f"/api/sessions?{query}")
    assert [s["session_id"] for s in view["sessions"]] == expected


def test_sessions_are_paged_newest_first(client: TestClient, seeded: Engine) -> None:
    with Session(seeded) as db:
        for i in range(60):
            db.add(AgentSession(session_id=f"bulk-{i:03d}", started_at=utcnow(), project="bulk"))
        db.commit()
    first = get_json(client, "/api/sessions?project=bulk")
    second = get_json(client, "/api/sessions?project=bulk&page=2")
    assert len(first["sessions"]) == 50 and first["has_more"] is True
    assert len(second["sessions"]) == 10 and second["has_more"] is False
    assert not {s["session_id"] for s in first["sessions"]} & {s["session_id"] for s in second["sessions"]}


def test_invalid_filters_are_a_400_not_a_500(client: TestClient) -> None:
    assert client.get("/api/sessions?days=-1").status_code == 400
    assert client.get("/api/sessions?page=zero").status_code == 400
    assert client.get("/api/providers?days=abc").status_code == 400


def test_session_detail_nests_subagents_and_rolls_costs_up_the_tree(client: TestClient) -> None:
    view = get_json(client, f"/api/sessions/{SESSION_A}")
    assert view["session"]["session_id"] == SESSION_A
    (prompt,) = view["timeline"]
    assert prompt["kind"] == "prompt"
    assert prompt["label"] == XSS_PROMPT
    explore = next(n for n in prompt["children"] if n["kind"] == "subagent")
    (nested,) = [n for n in explore["children"] if n["kind"] == "subagent"]
    assert nested["label"] == "code-reviewer"
    assert [n["label"] for n in nested["children"]] == ["Grep"]
    assert explore["cost_usd"] == pytest.approx(0.21 + 0.05)
    answered = next(d for d in view["delegations"] if d["answer"])
    assert answered["answer"] == ANSWER_TEXT
    assert answered["attempt"] == 1


def test_unknown_session_is_a_404(client: TestClient) -> None:
    assert client.get("/api/sessions/nope").status_code == 404
    assert client.get("/sessions/nope").status_code == 404


def test_captured_text_is_escaped_in_every_page(client: TestClient) -> None:
    html = client.get(f"/sessions/{SESSION_A}").text + client.get("/delegations").text
    assert "<script>window.__pwned" not in html
    assert "<svg" not in html
    assert "&lt;svg onload=window.__pwned=3&gt;" in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=window.__pwned=2&gt;" in html
    # No inline script at all: only external files and inert JSON data blocks.
    assert html.count("<script") == html.count('<script src="/static/') + html.count('type="application/json"')


def test_delegations_page_data_holds_routes_fallbacks_consensus_runs_and_recent_attempts(client: TestClient) -> None:
    view = get_json(client, "/api/delegations?days=30")
    assert view["range"]["days"] == 30
    assert view["stats"]["fallbacks"] == 1
    assert {r["provider"] for r in view["stats"]["by_route"]} == {"groq", "openai", "local"}
    assert [c["id"] for c in view["consensus_runs"]] == ["cons-1"]
    assert len(view["recent"]) == 6
    answered = next(r for r in view["recent"] if r["item"]["answer"])
    assert answered["session_id"] == SESSION_A
    assert answered["item"]["task"] == TASK_TEXT
    assert answered["item"]["answer"] == ANSWER_TEXT
    assert "method" in view["savings"]


def test_providers_page_data_holds_health_latency_and_breaker_events(client: TestClient) -> None:
    view = get_json(client, "/api/providers")
    groq = next(p for p in view["health"]["providers"] if p["provider"] == "groq")
    assert groq["breaker_state"] == "half_open"
    assert [e["event"] for e in view["events"]] == ["breaker_half_open", "breaker_open", "error"]
    openai = next(r for r in view["stats"]["by_route"] if r["model"] == "gpt-4o-mini")
    assert openai["p50_ms"] == pytest.approx(850.0)


def test_patterns_page_data_holds_routes_tools_and_recommendations(client: TestClient) -> None:
    view = get_json(client, "/api/patterns")
    assert {"routes", "tools", "recommendations", "min_calls"} <= view["patterns"].keys()
    assert any(r["route"] == "openai:gpt-4o-mini" for r in view["patterns"]["routes"])


def test_new_rows_show_on_the_next_request(client: TestClient, seeded: Engine) -> None:
    with Session(seeded) as db:
        db.add(AgentSession(session_id="fresh-0001-session", started_at=utcnow(), project="fresh"))
        db.add(Prompt(event_id="ev-fresh", session_id="fresh-0001-session", text="hello", created_at=utcnow()))
        db.commit()
    assert "fresh-00" in client.get("/").text


def test_a_secret_that_reached_the_store_is_not_shown_on_the_page_or_in_the_api(
    client: TestClient, seeded: Engine
) -> None:
    secret = "sk-ant-api03-abcdefghijklmnop1234"
    with Session(seeded) as db:
        db.add(
            Delegation(
                session_id=SESSION_A,
                request_id="req-leak",
                provider="anthropic",
                model="claude-haiku-4-5",
                status="auth",
                error=f"401 invalid x-api-key {secret}",
            )
        )
        db.add(Prompt(event_id="ev-leak", session_id=SESSION_A, text=f"use {secret} please", created_at=utcnow()))
        db.commit()
    for path in (f"/sessions/{SESSION_A}", f"/api/sessions/{SESSION_A}", "/delegations", "/api/delegations"):
        body = client.get(path).text
        assert secret not in body, path
        if path != "/delegations":  # that page lists attempts without their error text
            assert "[REDACTED:anthropic-key]" in body, path


def test_patterns_page_shows_a_route_recommendation_with_the_numbers_behind_it(
    client: TestClient, seeded: Engine
) -> None:
    with Session(seeded) as db:
        for i in range(30):  # the current first choice: half fail, expensive
            ok = i % 2 == 0
            db.add(
                Delegation(
                    request_id=f"fix-a{i}",
                    provider="openai",
                    model="gpt-4o",
                    task_type="code_fix",
                    status="ok" if ok else "timeout",
                    cost_usd=0.01,
                    latency_ms=900.0,
                )
            )
        for i in range(25):  # a cheaper route that always answers
            db.add(
                Delegation(
                    request_id=f"fix-b{i}",
                    provider="groq",
                    model="llama-3.3-70b-versatile",
                    task_type="code_fix",
                    status="ok",
                    cost_usd=0.001,
                    latency_ms=300.0,
                )
            )
        db.commit()
    recommendations = get_json(client, "/api/patterns")["patterns"]["recommendations"]
    route = next(r for r in recommendations if r["kind"] == "route")
    assert route["numbers"]["route"] == "groq:llama-3.3-70b-versatile"
    assert route["numbers"]["calls"] == 25
    html = client.get("/patterns").text
    assert "route code_fix to groq:llama-3.3-70b-versatile" in html


def test_overview_counts_context_pressure_warnings_recorded_by_the_hook(client: TestClient, seeded: Engine) -> None:
    with Session(seeded) as db:
        for i in range(2):
            db.add(
                RawEvent(
                    event_id=f"ev-ctx-{i}",
                    session_id=SESSION_A,
                    event_name="ContextPressure",
                    received_at=utcnow(),
                    payload={"hook_event_name": "ContextPressure", "session_id": SESSION_A, "fill_ratio": 0.8},
                )
            )
        db.commit()
    context = get_json(client, "/api/overview")["context"]
    assert context["warnings"] == 2
    assert context["sessions_warned"] == 1
    assert context["threshold"] == pytest.approx(0.70)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/sessions",
        "/delegations",
        "/providers",
        "/patterns",
        "/routing",
        "/api/overview",
        "/api/patterns",
        "/api/routing",
    ],
)
def test_every_page_renders_on_an_empty_store(engine: Engine, settings: Settings, path: str) -> None:
    with TestClient(build_app(engine, settings, ingest=False), base_url="http://127.0.0.1") as empty:
        response = empty.get(path)
    assert response.status_code == 200
    if not path.startswith("/api/"):
        assert 'class="empty"' in response.text


def test_totals_with_unpriced_usage_read_at_least_on_the_pages(client: TestClient) -> None:
    # The seeded store has an unpriced local delegation and a failed attempt with no cost.
    for path in ("/", "/delegations"):
        page = client.get(path)
        assert page.status_code == 200
        assert "at least $" in page.text and "unpriced</span>" in page.text, path


def test_the_empty_overview_suggests_importing_past_sessions(engine: Engine, settings: Settings) -> None:
    with TestClient(build_app(engine, settings, ingest=False), base_url="http://127.0.0.1") as empty:
        page = empty.get("/").text
    assert "<code>switchboard import</code>" in page
