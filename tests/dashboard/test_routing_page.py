"""The Routing page: learned order per task type, and its good/bad control (CSRF-protected POST)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from dashboard import build_app
from server.config import SwitchboardConfig
from server.settings import Settings
from server.store.models import Delegation, Feedback, RoutingStat, ThreadMessage
from tests.server.routing.recording import save_rows

FLAKY, OK = ("flaky", "a"), ("okp", "b")


def attempt(request_id: str, index: int, model: tuple[str, str], status: str, **kw: object) -> Delegation:
    provider, name = model
    return Delegation(
        session_id="s1",
        request_id=request_id,
        attempt=index,
        provider=provider,
        model=name,
        task_type="code_fix",
        status=status,
        latency_ms=100.0,
        cost_usd=0.001 if status == "ok" else 0.0,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(engine: Engine) -> Engine:
    for n in range(6):
        # The flaky model failed first, then learning put the steady one first.
        rows = [attempt(f"r{n}", 0, FLAKY, "server_error"), attempt(f"r{n}", 1, OK, "ok")]
        save_rows(engine, rows)
    for n in range(6, 10):
        save_rows(engine, [attempt(f"r{n}", 0, OK, "ok", learned_over="flaky:a")])
    return engine


CONFIG = SwitchboardConfig.model_validate(
    {
        "providers": {
            "flaky": {"base_url": "http://127.0.0.1:9/v1", "models": ["a"]},
            "okp": {"base_url": "http://127.0.0.1:9/v1", "models": ["b"]},
        },
        "routing": {"task_types": {"code_fix": ["flaky:a", "okp:b"]}},
    }
)


@pytest.fixture
def client(store: Engine, settings: Settings) -> Iterator[TestClient]:
    app = build_app(store, settings, config=CONFIG, ingest=False, serve_stale_s=0)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as test_client:
        yield test_client


def token_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found is not None
    return found.group(1)


def test_the_routing_page_shows_the_learned_order_overrides_and_a_chart(client: TestClient) -> None:
    page = client.get("/routing").text
    assert "Learned order: <strong>okp:b, flaky:a</strong>" in page
    assert "in <strong>4</strong> of 10 calls" in page
    assert 'id="learning-chart-data"' in page and 'id="success-chart-data"' in page
    assert page.count('name="good" value="0"') == 10
    data = client.get("/api/routing").json()
    [code_fix] = data["learning"]["task_types"]
    assert code_fix["learned_order"] == ["okp:b", "flaky:a"] and code_fix["overrides"] == 4
    assert code_fix["failed_first"] == 6 and code_fix["written_failed_first"] == 10


def test_good_bad_control_stores_feedback_and_counts_it_as_quality(client: TestClient, store: Engine) -> None:
    token = token_of(client.get("/routing").text)
    answer = client.post("/routing/feedback?days=7", data={"csrf": token, "request_id": "r7", "good": "0"})
    assert answer.status_code == 303 and answer.headers["location"] == "/routing?days=7"
    with Session(store) as db:
        [row] = db.exec(select(Feedback)).all()
        stat = db.exec(select(RoutingStat).where(col(RoutingStat.model) == "okp:b", col(RoutingStat.user) == "")).one()
    assert (row.request_id, row.good, row.source, row.model) == ("r7", False, "dashboard", "okp:b")
    assert (stat.quality_n, stat.quality_sum) == (1, 0.0)
    assert 'aria-pressed="true" class="bad"' in client.get("/routing").text


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        ({"request_id": "r7", "good": "1"}, {}),
        ({"csrf": "0" * 64, "request_id": "r7", "good": "1"}, {}),
        ({"request_id": "r7", "good": "1", "csrf": None}, {"origin": "https://evil.example"}),
        ({"request_id": "r7", "good": "1", "csrf": None}, {"sec-fetch-site": "cross-site"}),
    ],
)
def test_a_forged_feedback_post_is_refused_and_stores_nothing(
    client: TestClient, store: Engine, form: dict[str, str | None], headers: dict[str, str]
) -> None:
    if "csrf" in form and form["csrf"] is None:
        form["csrf"] = token_of(client.get("/routing").text)  # the right token, sent from another site
    answer = client.post("/routing/feedback", data={k: v for k, v in form.items() if v is not None}, headers=headers)
    assert answer.status_code == 403
    with Session(store) as db:
        assert db.exec(select(Feedback)).all() == []


def test_feedback_on_an_unknown_request_is_a_404_with_the_reason(client: TestClient) -> None:
    token = token_of(client.get("/routing").text)
    answer = client.post("/routing/feedback", data={"csrf": token, "request_id": "nope", "good": "1"})
    assert answer.status_code == 404 and "unknown request_id" in answer.text


def test_the_feedback_route_is_behind_the_token_off_loopback(store: Engine, settings: Settings) -> None:
    app = build_app(store, settings, token="t0ken-value", ingest=False)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as gated:
        assert gated.post("/routing/feedback", data={"request_id": "r7", "good": "1"}).status_code == 401


def test_the_written_order_is_the_configs_list_not_every_model_ever_called(store: Engine, client: TestClient) -> None:
    # Before: a model called by name, or by solve, joined the "written" order it was never written in.
    save_rows(store, [attempt("by-name", 0, ("okp", "c"), "ok")])
    data = client.get("/api/routing").json()
    [code_fix] = data["learning"]["task_types"]
    assert code_fix["written_order"] == ["flaky:a", "okp:b"]
    assert code_fix["learned_order"] == ["okp:b", "flaky:a"]
    assert [m["model"] for m in code_fix["models"]] == ["flaky:a", "okp:b"]
    assert [m["model"] for m in code_fix["other_models"]] == ["okp:c"]
    assert "written: flaky:a, okp:b." in client.get("/routing").text


def test_the_answers_table_shows_the_start_of_the_task_and_of_the_answer(store: Engine, client: TestClient) -> None:
    task, answer = "Fix the off-by-one in pager.py " + "x" * 300, "The loop should stop at len(items) - 1. " + "y" * 300
    save_rows(
        store,
        [
            attempt("with-text", 0, OK, "ok", thread_id="t-text"),
            ThreadMessage(thread_id="t-text", session_id="s1", role="user", content=task),
            ThreadMessage(thread_id="t-text", session_id="s1", role="assistant", content=answer, model="okp:b"),
        ],
    )
    page = client.get("/routing").text
    assert "Fix the off-by-one in pager.py" in page and "The loop should stop at len(items) - 1." in page
    assert "x" * 200 not in page and "y" * 200 not in page  # the start, not the whole text
    [row] = [a for a in client.get("/api/routing").json()["answers"] if a["request_id"] == "with-text"]
    assert row["task"].startswith("Fix the off-by-one") and row["answer"].startswith("The loop should stop")
