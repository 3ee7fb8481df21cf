"""``switchboard serve --http``: streamable HTTP on loopback, bearer token enforced, refused on open addresses."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.fakes.openai_api import FakeOpenAI, closed_port

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


def wait_for_listening(process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Read the server's stderr until uvicorn says it listens (bounded), without sleeping."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout_s
    seen = b""
    while b"Uvicorn running on" not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"serve did not start listening within {timeout_s} s: {seen.decode(errors='replace')}")
        readable, _, _ = select.select([process.stderr], [], [], left)
        if readable:
            chunk = os.read(process.stderr.fileno(), 4096)
            assert chunk, f"serve exited early: {seen.decode(errors='replace')}"
            seen += chunk


@pytest.fixture
def served(home: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with FakeOpenAI() as fake:
        config = tmp_path / "switchboard.toml"
        config.write_text(f'[providers.acme]\nbase_url = "{fake.base_url}"\nmodels = ["model-a"]\n')
        port = closed_port()
        env = {**os.environ, "SWITCHBOARD_CONFIG": str(config), "SWITCHBOARD_MCP_TOKEN": "s3cret-token"}
        env.pop("SWITCHBOARD_DATABASE_URL", None)
        command = [SWITCHBOARD, "serve", "--http", "--port", str(port), "--no-ingest"]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        try:
            wait_for_listening(process)
            yield f"http://127.0.0.1:{port}/mcp", "s3cret-token"
        finally:
            process.terminate()
            process.communicate(timeout=10)  # drains and closes the stderr pipe


@pytest.mark.anyio
async def test_http_server_answers_a_client_that_carries_the_token(served: tuple[str, str]) -> None:
    url, token = served
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    with anyio.fail_after(30):
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool("delegate", {"task": "over http"})
    assert result.structured_content is not None
    assert result.structured_content["answer"] == "echo: over http"


def test_http_server_refuses_a_request_without_the_token(served: tuple[str, str]) -> None:
    url, _token = served
    response = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    assert response.status_code == 401


def test_serving_beyond_loopback_without_a_token_is_refused(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_MCP_TOKEN"}
    done = subprocess.run(
        [SWITCHBOARD, "serve", "--http", "--host", "0.0.0.0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "SWITCHBOARD_MCP_TOKEN" in done.stderr
