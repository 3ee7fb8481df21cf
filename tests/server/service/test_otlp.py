"""Claude Code's OTLP/HTTP JSON logs into ``api_request`` and ``tool_decision``, through the service's receiver."""

from __future__ import annotations

import json
import math
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from server.commands.service import query_status
from server.page_token import page_token
from server.service.http import MAX_BODY_BYTES
from server.service.otel_settings import OTLP_SECRET_HEADER, otlp_secret
from server.service.telemetry import MAX_COST_USD, parse_logs
from server.store.database import make_engine, migrate
from server.store.models import AgentSession, ApiRequest, SubagentRun, ToolDecision
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
        ("s1", "toolu_1"): {
            "created_at": batch.tools["s1", "toolu_1"]["created_at"],
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
    batch = parse_logs(_body(record))
    if batch.refused:
        [reason] = batch.refused
        assert reason.startswith("api_request of session s: ") and batch.requests == []
        return
    [row] = batch.requests
    assert row.session_id == "s"
    assert row.cost_usd is None or 0 <= row.cost_usd <= MAX_COST_USD


_SECRETS: dict[int, str] = {}


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
        port = int(query_status(home)["port"])
        _SECRETS[port] = otlp_secret(home)
        yield home, port
    finally:
        stop_service(home)


def _post(
    port: int,
    data: bytes,
    host: str | None = None,
    content_type: str | None = "application/json",
    secret: str | None = None,
    **headers: str,
) -> tuple[int, str]:
    """POST to the receiver as Claude Code does: with the secret ``install --otel`` gives it, unless told otherwise."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=data, method="POST")
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    if host is not None:
        request.add_header("Host", host)
    if secret != "":
        request.add_header(OTLP_SECRET_HEADER, secret or _SECRETS[port])
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
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
    assert status == 415 and "only application/json" in reason
    status, reason = _post(port, json.dumps(SESSION).encode(), host="evil.example:80")
    assert status == 403 and "Host" in reason
    assert _post(port, json.dumps(_body()).encode())[0] == 200


def test_the_receiver_takes_only_claude_codes_requests_and_says_why_it_refuses_the_rest(
    service: tuple[Path, int],
) -> None:
    home, port = service
    data = json.dumps(SESSION).encode()
    refused = {
        "no secret": _post(port, data, secret=""),
        "a wrong secret": _post(port, data, secret="not-the-secret-of-this-install"),
        "an Origin": _post(port, data, Origin="https://evil.example"),
        "a null Origin": _post(port, data, Origin="null"),
        "Sec-Fetch-Site": _post(port, data, Sec_Fetch_Site="cross-site"),
        "text/plain;x=json": _post(port, data, content_type="text/plain;x=json"),
        "no media type": _post(port, data, content_type=None),
        "application/jsonp": _post(port, data, content_type="application/jsonp"),
    }
    statuses = {case: status for case, (status, _) in refused.items()}
    assert statuses == {
        "no secret": 401,
        "a wrong secret": 401,
        "an Origin": 403,
        "a null Origin": 403,
        "Sec-Fetch-Site": 403,
        "text/plain;x=json": 415,
        "no media type": 415,
        "application/jsonp": 415,
    }
    assert OTLP_SECRET_HEADER in refused["no secret"][1] and "not-the-secret" not in refused["a wrong secret"][1]
    assert "origin header" in refused["an Origin"][1] and "sec-fetch-site" in refused["Sec-Fetch-Site"][1]
    assert "only application/json" in refused["text/plain;x=json"][1]
    assert _rows(home) == ([], [])
    assert _post(port, data, content_type="application/json; charset=utf-8")[0] == 200


def test_the_page_token_is_no_otlp_secret_and_the_otlp_secret_opens_no_page(service: tuple[Path, int]) -> None:
    home, port = service
    page = page_token(home)
    assert _post(port, json.dumps(SESSION).encode(), secret=page)[0] == 401
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/overview")
    request.add_header("Authorization", f"Bearer {otlp_secret(home)}")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=60)
    denied.value.close()
    assert denied.value.code == 401


def test_json_nested_past_a_sane_depth_is_a_400_not_a_500(service: tuple[Path, int]) -> None:
    _, port = service
    for depth in (40, 5_000, 200_000):
        status, reason = _post(port, b"[" * depth + b"]" * depth)
        assert (status, reason) == (400, "body nests deeper than 32 levels\n"), depth
    nested = _body(_record("api_request", session__id="s9", cost_usd="0.1"))
    value: dict[str, Any] = {"stringValue": "x"}
    for _ in range(30):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    nested["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"].append({"key": "deep", "value": value})
    assert _post(port, json.dumps(nested).encode())[0] == 400


def _forged(session: str, sequence: int, cost: str, agent_id: str | None = None, **extra: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {"session__id": session, "event__sequence": sequence, "cost_usd": cost}
    attributes |= {"model": "claude-haiku-4-5", "input_tokens": "7", "output_tokens": "11", **extra}
    if agent_id is not None:
        attributes["agent_id"] = agent_id
    return _record("api_request", **attributes)


IMPOSSIBLE = [
    ("cost_usd", "1e308", "cost_usd 1e+308 is above $1000"),
    ("cost_usd", "1000.01", "cost_usd 1000.01 is above $1000"),
    ("cost_usd", "-0.5", "cost_usd is negative"),
    ("cost_usd", "NaN", "cost_usd is not finite"),
    ("cost_usd", "Infinity", "cost_usd is not finite"),
    ("cost_usd", "lots", "cost_usd is not a number"),
    ("input_tokens", "-3", "input_tokens is negative"),
    ("output_tokens", "1e12", "output_tokens is not a whole number"),
    ("cache_read_tokens", "999999999999", "cache_read_tokens 999999999999 is above 100000000"),
    ("duration_ms", "-1", "duration_ms is negative"),
]


def test_records_with_impossible_values_are_refused_with_the_reason_and_their_neighbours_kept(
    service: tuple[Path, int],
) -> None:
    home, port = service
    bad = [_forged(f"s-bad-{n}", 1, "0.002", **{field: value}) for n, (field, value, _) in enumerate(IMPOSSIBLE)]
    status, answer = _post(port, json.dumps(_body(_forged("s-good", 1, "0.003"), *bad)).encode())
    assert status == 200
    partial = json.loads(answer)["partialSuccess"]
    assert partial["rejectedLogRecords"] == len(IMPOSSIBLE)
    assert partial["errorMessage"].split("; ") == [
        f"api_request of session s-bad-{n}: {reason}" for n, (_, _, reason) in enumerate(IMPOSSIBLE)
    ]
    requests, _ = _rows(home)
    assert [(r.session_id, r.cost_usd) for r in requests] == [("s-good", 0.003)]


def _seed_victim(home: Path) -> None:
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    try:
        migrate(engine)
        with Session(engine) as db:
            db.add(AgentSession(session_id="victim", started_at=datetime.now(UTC)))
            db.add(
                SubagentRun(
                    session_id="victim",
                    agent_id="agent-victim",
                    agent_type="Explore",
                    started_at=datetime.now(UTC),
                    cost_usd=0.25,
                )
            )
            db.commit()
    finally:
        engine.dispose()


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_telemetry_of_one_session_never_changes_another_sessions_subagent_cost_and_the_json_stays_valid(
    service: tuple[Path, int],
) -> None:
    home, port = service
    _seed_victim(home)
    forged = _body(
        _forged("attacker", 1, "1e308", agent_id="agent-victim"),
        _forged("attacker", 2, "1e308", agent_id="agent-victim"),  # summed, these made the victim's cost Infinity
        _forged("attacker", 3, "5", agent_id="agent-victim"),
    )
    status, answer = _post(port, json.dumps(forged).encode())
    assert status == 200 and json.loads(answer)["partialSuccess"]["rejectedLogRecords"] == 2
    done = subprocess.run(
        [*SWITCHBOARD_ARGV, "stats", "--json", "--all", "--no-ingest", "--section", "subagents"],
        env=service_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [group] = _strict_json(done.stdout)["subagents"]["by_type"]
    assert group["cost_usd"] == 0.25
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/overview")
    request.add_header("Authorization", f"Bearer {page_token(home)}")
    with urllib.request.urlopen(request, timeout=60) as response:
        _strict_json(response.read().decode())


def test_a_forged_first_record_with_the_real_ones_sequence_does_not_drop_the_real_one(
    service: tuple[Path, int],
) -> None:
    home, port = service
    forged = _forged("s1", 1, "0.000001")
    assert _post(port, json.dumps(_body(forged)).encode())[0] == 200
    assert _post(port, json.dumps(SESSION).encode())[0] == 200
    assert _post(port, json.dumps(SESSION).encode())[0] == 200  # the exporter's retry still lands once
    requests, _ = _rows(home)
    assert sorted((r.event_sequence, r.cost_usd) for r in requests) == [(1, 0.000001), (1, 0.001446), (2, 0.000512)]


def test_a_tool_record_naming_another_sessions_tool_use_id_leaves_that_sessions_row_alone(
    service: tuple[Path, int],
) -> None:
    home, port = service
    assert _post(port, json.dumps(SESSION).encode())[0] == 200
    forged = _record("tool_decision", session__id="attacker", tool_use_id="toolu_1", decision="reject", source="x")
    assert _post(port, json.dumps(_body(forged)).encode())[0] == 200
    _, tools = _rows(home)
    by_session = {(t.session_id, t.tool_use_id): (t.decision, t.success) for t in tools}
    assert by_session == {("s1", "toolu_1"): ("accept", True), ("attacker", "toolu_1"): ("reject", None)}


OTLP_VALUE = st.one_of(
    st.builds(lambda v: {"stringValue": v}, st.text(max_size=12) | st.sampled_from(["1e308", "-1", "nan", "inf"])),
    st.builds(lambda v: {"intValue": v}, st.integers() | st.text(max_size=8)),
    st.builds(lambda v: {"doubleValue": v}, st.floats()),
    st.builds(lambda v: {"boolValue": v}, st.booleans()),
    JSON,
)
FIELDS = ["cost_usd", "input_tokens", "output_tokens", "cache_read_tokens", "duration_ms", "ttft_ms", "event.sequence"]
OTLP_RECORD = st.builds(
    lambda event, session, values, extra: {
        "body": {"stringValue": f"claude_code.{event}"},
        "timeUnixNano": extra,
        "attributes": [
            {"key": "session.id", "value": {"stringValue": session}},
            {"key": "tool_use_id", "value": {"stringValue": "t"}},
        ]
        + [{"key": key, "value": value} for key, value in values.items()],
    },
    st.sampled_from(["api_request", "tool_decision", "tool_result", "user_prompt"]),
    st.sampled_from(["s1", "s2"]),
    st.dictionaries(st.sampled_from(FIELDS), OTLP_VALUE, max_size=4),
    JSON,
)


def test_hypothesis_over_otlp_bodies_never_a_500_and_never_a_non_finite_number_stored(
    service: tuple[Path, int],
) -> None:
    home, port = service

    @settings(max_examples=60, deadline=None)
    @given(st.lists(OTLP_RECORD, max_size=4) | JSON)
    def post(records: Any) -> None:
        body = _body(*records) if isinstance(records, list) and all(isinstance(r, dict) for r in records) else records
        status, _ = _post(port, json.dumps(body).encode())
        assert status in (200, 400), status

    post()
    requests, tools = _rows(home)
    for row in requests:
        for number in (row.cost_usd, row.duration_ms, row.ttft_ms):
            assert number is None or (math.isfinite(number) and number >= 0)
        assert row.cost_usd is None or row.cost_usd <= MAX_COST_USD
    assert all(t.duration_ms is None or math.isfinite(t.duration_ms) for t in tools)
