"""The service's dashboard asks for the page token on loopback too; only ``/health`` answers without it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.commands.service import query_status
from server.page_token import page_token, page_url
from tests.server.service.launch import SWITCHBOARD_ARGV, service_env, stop_service


@pytest.fixture
def service_port(home: Path) -> Iterator[int]:
    start = [*SWITCHBOARD_ARGV, "service", "start", "--port", "0", "--idle", "120"]
    subprocess.run(start, env=service_env(home), check=True, capture_output=True, timeout=60)
    try:
        yield int(query_status(home)["port"])
    finally:
        stop_service(home)


def test_the_services_page_answers_only_its_page_token_and_health_answers_anyone(home: Path, service_port: int) -> None:
    base = f"http://127.0.0.1:{service_port}"
    with httpx.Client(timeout=30) as anyone:
        assert anyone.get(f"{base}/health").status_code == 200
        for path in ("/", "/sessions", "/api/overview", "/api/sessions", "/events"):
            assert anyone.get(base + path).status_code == 401, path
    token = page_token(home)
    with httpx.Client(timeout=30) as user:
        entered = user.get(page_url(service_port, token))
        assert entered.status_code == 303 and entered.headers["location"] == f"{base}/"
        assert user.get(f"{base}/api/overview").status_code == 200  # by the cookie the token URL left
        assert user.get(f"{base}/").status_code == 200
