"""The page table is the single source of the dashboard's pages (nav, HTML routes, ``/api`` twins, live topics), and
every page that lists or sums data takes the all / me switch (``?who=me|all``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from dashboard import build_app, views
from dashboard.live import TOPICS
from dashboard.marks import store_marks
from dashboard.page_table import Page, topic_of
from dashboard.pages import PAGES
from server.settings import Settings
from server.store.models import AgentSession, Delegation, SolveRun, ToolCall, utcnow

LISTINGS = [p for p in PAGES if "{" not in p.path]
"""The pages that list or sum data (the others show one session or one solve run)."""


@pytest.fixture
def client(seeded: Engine, settings: Settings) -> Iterator[TestClient]:
    app = build_app(seeded, settings, ingest=False, serve_stale_s=0)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def _paths(app: Starlette) -> tuple[set[str], set[str]]:
    html = {r.path for r in app.routes if isinstance(r, Route) and r.methods and "GET" in r.methods}
    api = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/api")
    return html, {r.path for r in api.routes if isinstance(r, Route)}


def _nav(html: str) -> list[tuple[str, str]]:
    header = html.split("<main")[0]
    nav = header.split('<nav aria-label="Pages">')[1].split("</nav>")[0]
    return re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', nav)


def test_every_page_has_an_html_route_and_an_api_twin_and_nothing_else_is_a_page(seeded: Engine) -> None:
    html, api = _paths(build_app(seeded, ingest=False))
    assert {p.path for p in PAGES} <= html
    assert {p.api_path for p in PAGES} <= api
    assert html - {p.path for p in PAGES} == {"/favicon.ico", "/events", "/health"}  # not pages
    assert api - {p.api_path for p in PAGES} == {"/export/{table}.csv"}
    assert len({p.name for p in PAGES}) == len(PAGES) and len({p.path for p in PAGES}) == len(PAGES)


def test_every_nav_link_is_a_listed_page_in_table_order(client: TestClient, seeded: Engine) -> None:
    with Session(seeded) as db:  # a second person: the Team page is listed too
        db.add(AgentSession(session_id="zoe-nav", user="zoe", host="z1", started_at=utcnow()))
        db.commit()
    listed = sorted((p for p in PAGES if p.nav is not None), key=lambda p: p.nav or 0)
    assert _nav(client.get("/").text) == [(p.path, p.title) for p in listed]
    assert any(p.listed_if is not None for p in listed)  # Team: only once several people write to the store


def test_every_live_topic_is_a_pages_and_every_store_mark_feeds_one(seeded: Engine) -> None:
    topics = {p.topic for p in PAGES}
    assert {t for fed in TOPICS.values() for t in fed} == topics
    assert set(TOPICS) == set(store_marks(seeded))
    assert all(p.marks for p in PAGES)
    assert topic_of(PAGES, ("session", "abc")) == "sessions"
    assert topic_of(PAGES, ("solve_run", "r1")) == "solve"
    assert topic_of(PAGES, ("team", "users")) == "team"


async def _no_runs(request: Request) -> views.SolveRunsView:
    return views.SolveRunsView(runs=[])


def test_a_page_added_to_the_table_gets_its_nav_link_html_route_api_and_live_topic(
    seeded: Engine, settings: Settings
) -> None:
    extra = Page(
        path="/throwaway",
        name="throwaway",
        title="Throwaway",
        loader=_no_runs,
        template="solve.html",
        topic="throwaway",
        marks=("feedback",),
        nav=99,
    )
    app = build_app(seeded, settings, ingest=False, page_table=(*PAGES, extra))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert _nav(client.get("/sessions").text)[-1] == ("/throwaway", "Throwaway")
        page = client.get("/throwaway?who=me")
        assert page.status_code == 200 and "<title>Throwaway · Switchboard</title>" in page.text
        assert 'data-topics="throwaway"' in page.text and 'href="/throwaway?who=me" aria-current="page"' in page.text
        assert client.get("/api/throwaway").json() == {"runs": []}
        assert "throwaway" in app.state.watcher.topics["feedback"]
    with TestClient(build_app(seeded, settings, ingest=False), base_url="http://127.0.0.1") as client:
        assert client.get("/throwaway").status_code == 404 and client.get("/api/throwaway").status_code == 404
        assert "/throwaway" not in client.get("/").text


def _someone_elses_rows(engine: Engine) -> None:
    now = utcnow() - timedelta(minutes=5)
    with Session(engine) as db:
        db.add(AgentSession(session_id="zoe-1", user="zoe", host="z1", started_at=now, project="api", cost_usd=2.5))
        db.add(ToolCall(session_id="zoe-1", tool_use_id="zoe-t1", tool_name="Bash", started_at=now, duration_ms=90_000))
        db.add_all(
            Delegation(
                session_id="zoe-1",
                request_id=f"r-zoe-{i}",
                provider="groq",
                model="zoe-model",
                task_type="summarize",
                status="ok" if i else "timeout",
                created_at=now,
                cost_usd=0.01,
            )
            for i in range(6)
        )
        db.add(SolveRun(id="solve-zoe", session_id="zoe-1", user="zoe", task="t", models="groq:zoe-model"))
        db.commit()


def _shown(client: TestClient, page: Page[Any], who: str) -> Any:
    response = client.get(f"/api{page.api_path}?who={who}")
    assert response.status_code == 200, (page.path, response.text)
    return _rows(response.json())


MOVING = {"generated_at", "since", "users"}
"""Not rows: when the view was made, where its windows start (now minus n days), and how many people the store
holds (the nav's Team link needs the whole store's count)."""


def _rows(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rows(v) for k, v in value.items() if k not in MOVING}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_rows(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def test_every_listing_page_shows_only_my_rows_with_who_me_and_everyones_with_who_all(
    client: TestClient, seeded: Engine
) -> None:
    mine = {p.path: _shown(client, p, "me") for p in LISTINGS}
    everyones = {p.path: _shown(client, p, "all") for p in LISTINGS}
    _someone_elses_rows(seeded)
    for page in LISTINGS:
        assert _shown(client, page, "me") == mine[page.path], f"{page.path}?who=me shows someone else's rows"
        assert _shown(client, page, "all") != everyones[page.path], f"{page.path}?who=all misses someone's rows"
    assert "zoe-1" in str(_shown(client, PAGES[0], "all")) and "zoe-1" not in str(_shown(client, PAGES[0], "me"))


def test_the_header_switch_keeps_who_across_nav_links_and_page_forms(client: TestClient) -> None:
    html = client.get("/delegations?days=30&who=me").text
    header = html.split("<main")[0]
    assert all(href.endswith("?who=me") for href, _label in _nav(html))
    assert 'id="who-me" href="/delegations?days=30&amp;who=me" aria-current="true"' in header
    assert 'id="who-all" href="/delegations?days=30"' in header
    assert '<input type="hidden" name="who" value="me">' in html  # the days picker keeps it
    plain = client.get("/delegations").text
    assert all("who=" not in href for href, _label in _nav(plain)) and 'name="who"' not in plain
    assert client.get("/api/providers?who=them").status_code == 400
