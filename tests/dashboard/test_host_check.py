"""No other site reads the page: Host and Origin checks over a real uvicorn, bounded numbers, cookie parsing."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from dashboard import build_app
from dashboard.origin import OriginCheck, allowed_hosts
from dashboard.security import COOKIE_NAME
from server.settings import Settings
from tests.dashboard.conftest import LiveServer, serve, stop

WAIT_S = 10.0
ROUTES = ("/", "/sessions", "/api/sessions", "/api/overview", "/events", "/health", "/static/app.js")
TOKEN = "the-dashboard-token-value"


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def status(url: str, path: str, headers: dict[str, str]) -> int:
    """The status of ``GET path``; the body is not read, so an SSE stream that opens does not hang the test."""
    with (
        httpx.Client(timeout=httpx.Timeout(WAIT_S)) as client,
        client.stream("GET", url + path, headers=headers) as response,
    ):
        return response.status_code


@pytest.mark.parametrize("path", ROUTES)
def test_a_foreign_host_gets_400_on_every_route_including_the_event_stream(live_server: LiveServer, path: str) -> None:
    assert status(live_server.url, path, {"host": f"evil.example:{port_of(live_server.url)}"}) == 400


def test_a_foreign_host_reads_no_session(live_server: LiveServer) -> None:
    with httpx.Client(timeout=WAIT_S) as client:
        response = client.get(f"{live_server.url}/api/sessions", headers={"host": "evil.example:8765"})
    assert response.status_code == 400
    assert "session" not in response.text


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_the_names_of_loopback_are_served(live_server: LiveServer, name: str) -> None:
    headers = {"host": f"{name}:{port_of(live_server.url)}", **live_server.auth}
    assert status(live_server.url, "/api/sessions", headers) == 200


def test_the_event_stream_opens_for_the_page_itself(live_server: LiveServer) -> None:
    with (
        httpx.Client(timeout=httpx.Timeout(WAIT_S)) as client,
        client.stream(
            "GET", f"{live_server.url}/events", headers={"origin": live_server.url, **live_server.auth}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert next(response.iter_lines()).startswith("event: hello")


@pytest.mark.parametrize("origin", ["http://evil.example:8765", "null", "http://127.0.0.1:1", "file://"])
@pytest.mark.parametrize("path", ["/api/sessions", "/events", "/"])
def test_a_request_from_another_origin_gets_403(live_server: LiveServer, origin: str, path: str) -> None:
    assert status(live_server.url, path, {"origin": origin}) == 403


def test_a_request_from_its_own_origin_is_served(live_server: LiveServer) -> None:
    assert status(live_server.url, "/api/overview", {"origin": live_server.url, **live_server.auth}) == 200


def test_a_page_bound_to_another_loopback_address_checks_hosts_too(seeded: Engine, settings: Settings) -> None:
    app = build_app(seeded, settings, host="127.0.0.2", ingest=False)
    url, server, thread = serve(app)
    try:
        port = port_of(url)
        assert status(url, "/api/sessions", {"host": f"evil.example:{port}"}) == 400
        assert status(url, "/api/sessions", {"host": f"127.0.0.2:{port}"}) == 200
    finally:
        stop(server, thread)


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("127.0.0.1", ["127.0.0.1", "localhost", "[::1]"]),
        ("127.0.0.2", ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"]),
        ("::1", ["127.0.0.1", "localhost", "[::1]"]),
        ("192.168.1.4", ["192.168.1.4"]),
        ("fe80::1", ["[fe80::1]"]),
        ("0.0.0.0", None),
        ("::", None),
    ],
)
def test_the_page_answers_to_the_names_of_the_address_it_serves(bind: str, expected: list[str] | None) -> None:
    assert allowed_hosts(bind) == expected


@pytest.fixture
def client(seeded: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_app(seeded, settings, ingest=False), base_url="http://127.0.0.1:8765") as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("days=1e10", "days"),
        ("days=inf", "days"),
        ("page=9223372036854775807", "page"),
        ("page=1e400", "page"),
    ],
)
@pytest.mark.parametrize("path", ["/sessions", "/api/sessions"])
def test_an_oversized_number_is_a_400_naming_the_field(client: TestClient, path: str, query: str, field: str) -> None:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert field in response.text


@pytest.mark.parametrize("path", ["/delegations", "/api/providers", "/api/patterns"])
def test_an_oversized_range_is_a_400_on_the_range_pages(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?days=1e10")
    assert response.status_code == 400
    assert "days" in response.text


def test_the_largest_allowed_look_back_is_served(client: TestClient) -> None:
    assert client.get("/api/sessions?days=36500&page=1000000").status_code == 200


@pytest.mark.parametrize(
    "other",
    ['prefs="a\\b', 'json={"a":1}', 'q=b"c', "flags=[1,2]"],
)
def test_a_malformed_cookie_of_another_app_does_not_lock_the_token_out(
    seeded: Engine, settings: Settings, other: str
) -> None:
    app = build_app(seeded, settings, token=TOKEN, ingest=False)
    with TestClient(app, base_url="http://127.0.0.1:8765") as gated:
        response = gated.get("/api/overview", headers={"cookie": f"{other}; {COOKIE_NAME}={TOKEN}"})
    assert response.status_code == 200


@pytest.mark.parametrize("order", ["theirs first", "ours first"])
def test_a_same_named_cookie_of_another_app_on_this_host_does_not_lock_the_token_out(
    seeded: Engine, settings: Settings, order: str
) -> None:
    ours, theirs = f"{COOKIE_NAME}={TOKEN}", f"{COOKIE_NAME}=set-by-the-app-on-port-3000"
    cookie = f"{theirs}; {ours}" if order == "theirs first" else f"{ours}; {theirs}"
    app = build_app(seeded, settings, token=TOKEN, ingest=False)
    with TestClient(app, base_url="http://127.0.0.1:8765") as gated:
        assert gated.get("/api/overview", headers={"cookie": cookie}).status_code == 200
        assert gated.get("/api/overview", headers={"cookie": theirs}).status_code == 401


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("ok")(scope, receive, send)


def _status_through_origin_check(origin: str, host: str) -> int:
    checked = OriginCheck(_ok, hosts=allowed_hosts("127.0.0.1"))
    # Not entered as a context manager: no lifespan, the fake app only answers requests.
    return TestClient(checked, base_url=f"http://{host}").get("/", headers={"origin": origin}).status_code


@given(
    origin=st.one_of(
        st.text(max_size=40),
        st.builds(lambda s, h: f"{s}://{h}", st.sampled_from(["http", "https", "file", "HTTP"]), st.text(max_size=30)),
    ),
    host=st.sampled_from(["127.0.0.1:8765", "localhost:8765", "[::1]:8765"]),
)
@example(origin="http://127.0.0.1:8765", host="127.0.0.1:8765")
@example(origin="HTTP://LOCALHOST:8765", host="localhost:8765")
@example(origin="https://[::1]:8765", host="[::1]:8765")
@example(origin="http://127.0.0.1:8765.evil.example", host="127.0.0.1:8765")
@example(origin="http://user@127.0.0.1:8765", host="127.0.0.1:8765")
def test_only_the_pages_own_origin_passes_the_origin_check(origin: str, host: str) -> None:
    try:
        status = _status_through_origin_check(origin, host)
    except (UnicodeEncodeError, httpx.InvalidURL, httpx.LocalProtocolError):
        return  # not a header value a client can send
    own = origin.lower() in (f"http://{host}", f"https://{host}")
    assert status == (200 if own else 403), (origin, host)
