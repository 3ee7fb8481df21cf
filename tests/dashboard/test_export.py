"""The page's tables link to a CSV of their store table; ``/api/export/{table}.csv`` serves it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from dashboard import build_app
from server.settings import Settings
from tests.dashboard.seed import SESSION_A, SESSION_B


@pytest.fixture
def client(seeded: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_app(seeded, settings, ingest=False, serve_stale_s=0), base_url="http://127.0.0.1") as c:
        yield c


def test_the_sessions_and_delegations_pages_link_to_their_csv(client: TestClient) -> None:
    assert 'href="/api/export/session.csv"' in client.get("/sessions").text
    assert 'href="/api/export/session.csv?days=1"' in client.get("/sessions?days=1").text
    assert 'href="/api/export/delegation.csv"' in client.get("/delegations").text


def test_the_csv_has_every_column_and_the_days_window(client: TestClient) -> None:
    response = client.get("/api/export/session.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="session.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {SESSION_A, SESSION_B} <= {row["session_id"] for row in rows}
    recent = list(csv.DictReader(io.StringIO(client.get("/api/export/session.csv?days=1").text)))
    assert SESSION_A in {row["session_id"] for row in recent} and SESSION_B not in {r["session_id"] for r in recent}


def test_an_unknown_table_or_bad_days_is_a_400_naming_what_works(client: TestClient) -> None:
    unknown = client.get("/api/export/secrets.csv")
    assert unknown.status_code == 400 and "there is no table 'secrets'; tables: agent_log, api_request" in unknown.text
    assert client.get("/api/export/session.csv?days=-1").status_code == 400
