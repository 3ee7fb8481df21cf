"""``switchboard dashboard`` opens the running service's page, starting the service when none runs."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.commands.service import query_status
from server.page_token import page_token, page_url
from tests.server.service.launch import SWITCHBOARD_ARGV, service_env, service_pid, stop_service


@pytest.fixture
def service_home(home: Path) -> Iterator[Path]:
    yield home
    stop_service(home)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dashboard(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SWITCHBOARD_ARGV, "dashboard", "--no-open", *args],
        env=service_env(home, **env),
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_dashboard_starts_the_service_prints_its_page_and_exits_leaving_it_serving(service_home: Path) -> None:
    port = _free_port()
    done = _dashboard(service_home, SWITCHBOARD_SERVICE_PORT=str(port))
    url = page_url(port, page_token(service_home))
    assert (done.returncode, done.stdout) == (0, f"{url}\n"), done.stderr
    status = query_status(service_home)
    assert status["running"] and status["port"] == port
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()["status"] == "ok"
    assert httpx.get(url, timeout=10, follow_redirects=True).status_code == 200  # the printed address opens it
    pid = service_pid(service_home)
    again = _dashboard(service_home, SWITCHBOARD_SERVICE_PORT=str(port))
    assert again.stdout == done.stdout and service_pid(service_home) == pid  # the same service, not a second one
    doctor = subprocess.run(
        [*SWITCHBOARD_ARGV, "doctor", "--json"],
        env=service_env(service_home),
        capture_output=True,
        text=True,
        timeout=90,
    )
    [service] = [check for check in json.loads(doctor.stdout) if check["name"] == "service"]
    assert (
        service["ok"]
        and f"running, pid {pid}, port {port}, build stamp {status['stamp']} (this install's)" in (service["detail"])
    )


def test_dashboard_never_serves_on_the_port_the_service_needs(service_home: Path) -> None:
    port = _free_port()
    done = _dashboard(service_home, "--port", str(port), SWITCHBOARD_SERVICE_PORT=str(port))
    assert done.returncode == 2 and f"port {port} is the service's" in done.stderr
    assert service_pid(service_home) is None
