"""Claude Code's OTLP/HTTP JSON logs into ``api_request`` and ``tool_decision``, through the service's receiver."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from server.commands.service import query_status
from server.service.http import MAX_BODY_BYTES
from server.service.telemetry import parse_logs
from server.store.engine import make_engine
from server.store.models import ApiRequest, ToolDecision
from tests.server.service.launch import SWITCHBOARD_ARGV, service_env, stop_service


def _attr(key: str, value: Any) -> dict[str, Any]:
    kind = {bool: "boolValue", int: "intValue", float: "doubleValue"}.get(type(value), "stringValue")
    return {"key": key, "value": {kind: value}}


def _record(event: str, **attributes: Any) -> dict[str, Any]:
    return {
        "timeUnixNano": "1764392400000000000",
        "body": {"stringValue": f"claude_code.{event}"},
        "attributes": [_attr(key.replace("__", "."), value) for key, value in attributes.items()],
    }


def _body(*records: dict[str, Any]) -> dict[str, Any]:
    resource = {"attributes": [_attr("service.name", "claude-code")]}
    return {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": list(records)}]}]}


# As Claude Code 2.1.328 sends them: numbers mostly as strings; a subagent's requests carry agent_id.
SESSION = _body(
    _record("user_prompt", session__id="s1", prompt__id="p1", prompt="<REDACTED>", event__sequence=0),
    _record(
        "api_request", session__id="s1", prompt__id="p1", event__sequence=1, model="claude-sonnet-4-5",
        cost_usd="0.001446", duration_ms="812", ttft_ms="301", input_tokens="12", output_tokens="40",
        cache_read_tokens="0", cache_creation_tokens="900", query_source="sdk",
    ),
    _record(
        "api_request", session__id="s1", prompt__id="p1", event__sequence=2, model="claude-haiku-4-5",
        cost_usd="0.000512", duration_ms="420", ttft_ms="150", input_tokens="7", output_tokens="11",
        query_source="agent:builtin:general-purpose", agent_id="agent-1",
    ),
    _record("tool_decision", session__id="s1", tool_use_id="toolu_1", tool_name="Bash", decision="accept",
            source="config", event__sequence=3),
    _record("tool_result", session__id="s1", tool_use_id="toolu_1", tool_name="Bash", success="true",
            duration_ms="35", event__sequence=4),
)  # fmt: skip


def test_api_requests_become_rows_with_claude_codes_own_cost_and_the_subagent_id() -> None:
    batch = parse_logs(SESSION)
    rows = [(r.session_id, r.event_sequence, r.model, r.cost_usd, r.agent_id) for r in batch.requests]
    assert rows == [
        ("s1", 1, "claude-sonnet-4-5", 0.001446, None),
        ("s1", 2, "claude-haiku-4-5", 0.000512, "agent-1"),
    ]
    first = batch.requests[0]
    assert (first.duration_ms, first.ttft_ms, first.input_tokens, first.cache_creation_tokens) == (812, 301, 12, 900)
    assert batch.tools == {
        "toolu_1": {
            "session_id": "s1",
            "created_at": batch.tools["toolu_1"]["created_at"],
            "tool_name": "Bash",
            "decision": "accept",
            "source": "config",
            "success": True,
            "duration_ms": 35.0,
        }
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_body_parses_to_rows_or_is_refused_with_a_value_error(body: Any) -> None:
    try:
        batch = parse_logs(body)
    except ValueError:
        assert not isinstance(body, dict)
        return
    assert all(row.session_id for row in batch.requests)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["stringValue", "intValue", "doubleValue", "boolValue", "x"]), JSON))
def test_any_attribute_value_shape_is_read_without_error(value: dict[str, Any]) -> None:
    record = {"body": {"stringValue": "claude_code.api_request"}, "attributes": [_attr("session.id", "s")]}
    record["attributes"] += [{"key": key, "value": value} for key in ("cost_usd", "input_tokens", "event.sequence")]
    record["timeUnixNano"] = value.get("intValue")
    [row] = parse_logs(_body(record)).requests
    assert row.session_id == "s"


@pytest.fixture
def service(home: Path) -> Iterator[tuple[Path, int]]:
    subprocess.run(
        [*SWITCHBOARD_ARGV, "service", "start", "--port", "0", "--idle", "120"],
        env=service_env(home),
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield home, int(query_status(home)["port"])
    finally:
        stop_service(home)


def _post(port: int, data: bytes, host: str | None = None, content_type: str = "application/json") -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=data, method="POST")
    request.add_header("Content-Type", content_type)
    if host is not None:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def _rows(home: Path) -> tuple[list[ApiRequest], list[ToolDecision]]:
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    try:
        with Session(engine) as db:
            return list(db.exec(select(ApiRequest))), list(db.exec(select(ToolDecision)))
    finally:
        engine.dispose()


def test_the_receiver_stores_a_sessions_requests_once_and_they_sum_to_its_cost(service: tuple[Path, int]) -> None:
    home, port = service
    assert _post(port, json.dumps(SESSION).encode())[0] == 200
    assert _post(port, json.dumps(SESSION).encode())[0] == 200  # an exporter's retry
    requests, tools = _rows(home)
    assert sorted(row.event_sequence or 0 for row in requests) == [1, 2]
    assert round(sum(row.cost_usd or 0 for row in requests), 6) == 0.001958
    assert [(t.tool_use_id, t.decision, t.success) for t in tools] == [("toolu_1", "accept", True)]


def test_the_receiver_refuses_bad_bodies_and_foreign_hosts_with_the_reason(service: tuple[Path, int]) -> None:
    _, port = service
    status, reason = _post(port, b"{not json")
    assert status == 400 and "not JSON" in reason
    status, reason = _post(port, b"[" + b" " * MAX_BODY_BYTES + b"]")
    assert status == 400 and f"larger than {MAX_BODY_BYTES}" in reason
    status, reason = _post(port, b"\x0a\x02", content_type="application/x-protobuf")
    assert status == 400 and "http/json" in reason
    status, reason = _post(port, json.dumps(SESSION).encode(), host="evil.example:80")
    assert status == 403 and "Host" in reason
    assert _post(port, json.dumps(_body()).encode())[0] == 200
