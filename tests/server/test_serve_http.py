"""``switchboard serve --http``: streamable HTTP on loopback, bearer token enforced, refused on open addresses."""

from __future__ import annotations

import os
import re
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
from mcp.shared.exceptions import MCPError

from tests.fakes.openai_api import FakeOpenAI, closed_port

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


def wait_for_listening(process: subprocess.Popen[bytes], timeout_s: float = 30) -> str:
    """Read the server's stderr until uvicorn says it listens (bounded), without sleeping; what it wrote."""
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
    return seen.decode(errors="replace")


def printed_token(stderr: str) -> str:
    found = re.search(r"Authorization: Bearer (\S+) \(made for this run", stderr)
    assert found, stderr
    return found.group(1)


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


@pytest.fixture
def served_on_127_0_0_2(home: Path, tmp_path: Path) -> Iterator[tuple[str, FakeOpenAI, Path, str]]:
    """``serve --http --host 127.0.0.2`` with no token set (it prints the one it made) and ``--root`` a project."""
    project = tmp_path / "project"
    project.mkdir()
    with FakeOpenAI() as fake:
        config = tmp_path / "switchboard.toml"
        config.write_text(f'[providers.acme]\nbase_url = "{fake.base_url}"\nmodels = ["model-a"]\n')
        port = closed_port()
        env = {k: v for k, v in os.environ.items() if k not in ("SWITCHBOARD_MCP_TOKEN", "SWITCHBOARD_DATABASE_URL")}
        env["SWITCHBOARD_CONFIG"] = str(config)
        command = [SWITCHBOARD, "serve", "--http", "--host", "127.0.0.2", "--port", str(port), "--no-ingest"]
        process = subprocess.Popen([*command, "--root", str(project)], env=env, stderr=subprocess.PIPE)
        try:
            token = printed_token(wait_for_listening(process))
            yield f"http://127.0.0.2:{port}/mcp", fake, project, token
        finally:
            process.terminate()
            process.communicate(timeout=10)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def test_every_loopback_address_refuses_a_foreign_host(served_on_127_0_0_2: tuple[str, FakeOpenAI, Path, str]) -> None:
    url, _fake, _project, token = served_on_127_0_0_2
    port = url.split(":")[2].split("/")[0]
    headers = {**MCP_HEADERS, "authorization": f"Bearer {token}"}  # the token is checked first: carry it
    foreign = httpx2.post(url, json=INITIALIZE, headers={**headers, "host": f"evil.example:{port}"}, timeout=10)
    assert foreign.status_code == 421
    from_elsewhere = httpx2.post(url, json=INITIALIZE, headers={**headers, "origin": "http://evil.example"}, timeout=10)
    assert from_elsewhere.status_code == 403


@pytest.mark.anyio
async def test_every_loopback_address_serves_the_real_client_with_files_under_its_root(
    served_on_127_0_0_2: tuple[str, FakeOpenAI, Path, str],
) -> None:
    url, fake, project, token = served_on_127_0_0_2
    (project / "notes.md").write_text("inside the root")
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    with anyio.fail_after(30):
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            inside = await client.call_tool("delegate", {"task": "read", "files": ["notes.md"]})
            outside = await client.call_tool("delegate", {"task": "read", "files": ["/etc/passwd"]})
    assert not inside.is_error, inside.content
    assert "inside the root" in fake.requests[-1]["messages"][-1]["content"]
    assert outside.is_error and "outside the project root" in str(outside.content[0])


@pytest.mark.anyio
async def test_over_http_without_a_root_no_file_is_sent(served: tuple[str, str], tmp_path: Path) -> None:
    url, token = served
    (tmp_path / "a.txt").write_text("a")
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    with anyio.fail_after(30):
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool("delegate", {"task": "read", "files": [str(tmp_path / "a.txt")]})
    assert result.is_error and "--root" in str(result.content[0])


@pytest.mark.anyio
async def test_the_real_client_naming_a_foreign_host_is_turned_away(
    served_on_127_0_0_2: tuple[str, FakeOpenAI, Path, str],
) -> None:
    url, fake, _project, token = served_on_127_0_0_2
    statuses: list[int] = []

    async def note(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    http = create_mcp_http_client(headers={"Host": "evil.example", "Authorization": f"Bearer {token}"})
    http.event_hooks["response"].append(note)
    refused = pytest.RaisesGroup(pytest.RaisesExc(MCPError, match="error response"), flatten_subgroups=True)
    with anyio.fail_after(30), refused:
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            await client.call_tool("delegate", {"task": "from a rebinding page"})
    assert statuses and set(statuses) == {421}
    assert fake.requests == []


@pytest.mark.anyio
async def test_on_loopback_without_a_token_set_the_real_client_needs_the_printed_one(
    served_on_127_0_0_2: tuple[str, FakeOpenAI, Path, str],
) -> None:
    url, fake, project, token = served_on_127_0_0_2
    (project / "secret.md").write_text("only for the user")
    bare = httpx2.post(url, json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
    assert bare.status_code == 401 and token not in bare.text
    wrong = httpx2.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "authorization": "Bearer guess"}, timeout=10)
    assert wrong.status_code == 401
    refused = pytest.RaisesGroup(pytest.RaisesExc(MCPError), flatten_subgroups=True)
    with anyio.fail_after(30), refused:
        async with Client(streamable_http_client(url)) as client:  # another local user, without the token
            await client.call_tool("delegate", {"task": "read", "files": ["secret.md"]})
    assert fake.requests == []
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    with anyio.fail_after(30):
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool("delegate", {"task": "hello"})
    assert not result.is_error, result.content
