"""A web page cannot post telemetry: a real Chromium ``fetch`` from a page of another origin lands no row."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import inspect
from sqlmodel import Session, select

from server.commands.service import query_status
from server.store.database import make_engine
from server.store.models import ApiRequest
from tests.server.service.launch import SWITCHBOARD_ARGV, service_env, stop_service

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

RECORD = {
    "body": {"stringValue": "claude_code.api_request"},
    "attributes": [
        {"key": "session.id", "value": {"stringValue": "from-a-web-page"}},
        {"key": "cost_usd", "value": {"stringValue": "1e308"}},
        {"key": "event.sequence", "value": {"intValue": 1}},
    ],
}
BODY = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [RECORD]}]}]})

# What any page can send without a preflight: no-cors, a CORS-safelisted text/plain type or a typeless Blob.
ATTACK = """async ([url, body]) => {
  const sent = [];
  for (const [name, init] of [
    ["text/plain;x=json", {headers: {"Content-Type": "text/plain;x=json"}, body}],
    ["typeless Blob", {body: new Blob([body])}],
    ["plain string", {body}],
  ]) {
    await fetch(url, {method: "POST", mode: "no-cors", ...init});
    sent.push(name);
  }
  return sent;
}"""


class _Page(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = b"<!doctype html><title>elsewhere</title><p>an ordinary web page</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def other_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _requests(home: Path) -> list[ApiRequest]:
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    try:
        if not inspect(engine).has_table("api_request"):
            return []
        with Session(engine) as db:
            return list(db.exec(select(ApiRequest)))
    finally:
        engine.dispose()


def test_a_no_cors_fetch_from_a_page_of_another_origin_lands_no_telemetry(home: Path, other_origin: str) -> None:
    env = service_env(home)
    start = [*SWITCHBOARD_ARGV, "service", "start", "--port", "0", "--idle", "120"]
    subprocess.run(start, env=env, check=True, capture_output=True, timeout=60)
    try:
        port = int(query_status(home)["port"])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = browser.new_page()
                page.goto(other_origin)
                sent = page.evaluate(ATTACK, [f"http://127.0.0.1:{port}/v1/logs", BODY])
            finally:
                browser.close()
        assert sent == ["text/plain;x=json", "typeless Blob", "plain string"]
        # Each fetch resolved only once the receiver had answered: anything it stored is in the store now.
        assert [(r.session_id, r.cost_usd) for r in _requests(home)] == []
    finally:
        stop_service(home)
