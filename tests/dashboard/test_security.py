"""The access token, the security headers and /health, through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from dashboard import build_app
from dashboard.security import COOKIE_NAME, is_loopback
from server.settings import Settings
from server.store.database import make_engine

TOKEN = "s3cret-token-value"
BASE = "http://127.0.0.1:8765"


@pytest.fixture
def gated(seeded: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(
        build_app(seeded, settings, token=TOKEN, ingest=False), base_url=BASE, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def open_client(seeded: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_app(seeded, settings, ingest=False), base_url=BASE) as client:
        yield client


def test_health_answers_ok_with_the_store_reachable(open_client: TestClient) -> None:
    response = open_client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["store"] == "ok"


def test_health_needs_no_token_and_reveals_none(gated: TestClient) -> None:
    response = gated.get("/health")
    assert response.status_code == 200
    assert TOKEN not in response.text


def test_request_without_token_is_refused_without_echoing_anything(gated: TestClient) -> None:
    response = gated.get("/api/overview", headers={"authorization": "Bearer wrong-guess"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "wrong-guess" not in response.text
    assert TOKEN not in response.text


def test_bearer_token_is_accepted(gated: TestClient) -> None:
    assert gated.get("/api/overview", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_query_token_sets_an_httponly_cookie_and_redirects_to_a_url_without_it(gated: TestClient) -> None:
    response = gated.get(f"/sessions?q=login&token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["location"].endswith("/sessions?q=login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    followed = gated.get(response.headers["location"])
    assert followed.status_code == 200
    assert TOKEN not in followed.text


def test_wrong_query_token_sets_no_cookie(gated: TestClient) -> None:
    response = gated.get("/?token=nope")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert gated.get("/").status_code == 401


def test_every_response_carries_a_strict_content_security_policy(open_client: TestClient) -> None:
    for path in ("/", "/api/overview", "/health", "/static/app.js", "/does-not-exist"):
        csp = open_client.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("::", False),
        ("example.com", False),
    ],
)
def test_only_loopback_addresses_count_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_live_stream_and_static_files_are_behind_the_token_too(gated: TestClient) -> None:
    assert gated.get("/events").status_code == 401
    assert gated.get("/static/app.js").status_code == 401
    assert gated.get("/static/app.js", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_health_is_503_when_the_store_does_not_answer(tmp_path: Path, settings: Settings) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    try:
        with TestClient(build_app(broken, settings, ingest=False), base_url=BASE) as client:
            response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "error"
    finally:
        broken.dispose()
