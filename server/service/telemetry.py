"""Claude Code's own telemetry (OTLP/HTTP JSON logs) into rows: ``api_request`` and ``tool_decision``.

A body is ``resourceLogs[].scopeLogs[].logRecords[]``; each record's body is ``claude_code.<event>`` and its
attributes are ``{key, value: {stringValue|intValue|doubleValue|boolValue}}`` (Claude Code 2.1.328 sends most
numbers as strings). ``api_request`` becomes a row, deduplicated on ``session.id`` + ``event.sequence`` (an
exporter retries a batch it thinks failed). ``tool_decision`` and ``tool_result`` fill one ``tool_decision`` row
per ``tool_use_id``. Prompts are never stored (Claude Code redacts them anyway); nothing else is kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.store.models import ApiRequest, ToolDecision

__all__ = ["Batch", "parse_logs", "save_batch"]

Attributes = dict[str, Any]


def _value(value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    for kind in ("stringValue", "boolValue", "doubleValue"):
        if kind in value:
            return value[kind]
    if "intValue" in value:
        return _int(value["intValue"])
    return None


def _attributes(items: Any) -> Attributes:
    if not isinstance(items, list):
        return {}
    return {str(item["key"]): _value(item.get("value")) for item in items if isinstance(item, dict) and "key" in item}


def _int(value: Any) -> int | None:
    """An integer that fits a database column, else None (attributes come as strings, ints or floats)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if abs(number) < 2**63 else None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _str(value: Any) -> str | None:
    return str(value)[:200] if value not in (None, "") else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).lower()) if value is not None else None


def _time(record: Mapping[str, Any]) -> datetime:
    for key in ("timeUnixNano", "observedTimeUnixNano"):
        nanos = _int(record.get(key))
        if nanos and 0 < nanos < 2**63:
            return datetime.fromtimestamp(nanos / 1e9, UTC)
    return datetime.now(UTC)


def _objects(value: Any, key: str) -> list[dict[str, Any]]:
    items = value.get(key) if isinstance(value, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _records(body: Any) -> Iterator[tuple[str, Attributes, datetime]]:
    """(event name, attributes with the resource's underneath, time) of every log record in an OTLP body."""
    if not isinstance(body, dict):
        raise ValueError("an OTLP logs body is a JSON object with resourceLogs")
    for resource_logs in _objects(body, "resourceLogs"):
        resource = resource_logs.get("resource")
        resource = _attributes(resource.get("attributes") if isinstance(resource, dict) else None)
        for scope_logs in _objects(resource_logs, "scopeLogs"):
            for record in _objects(scope_logs, "logRecords"):
                attributes = {**resource, **_attributes(record.get("attributes"))}
                name = str(attributes.get("event.name") or _value(record.get("body")) or "")
                yield name.removeprefix("claude_code."), attributes, _time(record)


@dataclass
class Batch:
    """The rows one OTLP body carries."""

    requests: list[ApiRequest] = field(default_factory=lambda: [])
    tools: dict[str, dict[str, Any]] = field(default_factory=lambda: {})
    """Per tool_use_id: session_id and the columns its events set."""


def _api_request(attributes: Attributes, when: datetime) -> ApiRequest | None:
    from server.store.models import ApiRequest

    session = _str(attributes.get("session.id"))
    if session is None:
        return None
    return ApiRequest(
        session_id=session,
        prompt_id=_str(attributes.get("prompt.id")),
        request_id=_str(attributes.get("request_id") or attributes.get("request.id")),
        event_sequence=_int(attributes.get("event.sequence")),
        model=_str(attributes.get("model")),
        cost_usd=_float(attributes.get("cost_usd")),
        duration_ms=_float(attributes.get("duration_ms")),
        ttft_ms=_float(attributes.get("ttft_ms")),
        input_tokens=_int(attributes.get("input_tokens")) or 0,
        output_tokens=_int(attributes.get("output_tokens")) or 0,
        cache_read_tokens=_int(attributes.get("cache_read_tokens")) or 0,
        cache_creation_tokens=_int(attributes.get("cache_creation_tokens")) or 0,
        query_source=_str(attributes.get("query_source")),
        agent_id=_str(attributes.get("agent_id") or attributes.get("agent.id")),
        created_at=when,
    )


def _tool_columns(name: str, attributes: Attributes) -> dict[str, Any]:
    columns: dict[str, Any] = {"tool_name": _str(attributes.get("tool_name") or attributes.get("tool.name"))}
    if name == "tool_decision":
        columns |= {"decision": _str(attributes.get("decision")), "source": _str(attributes.get("source"))}
    else:
        columns |= {"success": _bool(attributes.get("success")), "duration_ms": _float(attributes.get("duration_ms"))}
    return {key: value for key, value in columns.items() if value is not None}


def parse_logs(body: Any) -> Batch:
    """The rows in an OTLP/HTTP JSON logs body; records of other events are skipped.

    Raises:
        ValueError: the body is not an OTLP logs object.
    """
    batch = Batch()
    for name, attributes, when in _records(body):
        if name == "api_request":
            row = _api_request(attributes, when)
            if row is not None:
                batch.requests.append(row)
        elif name in ("tool_decision", "tool_result"):
            tool_use_id = _str(attributes.get("tool_use_id"))
            session = _str(attributes.get("session.id"))
            if tool_use_id and session:
                entry = batch.tools.setdefault(tool_use_id, {"session_id": session, "created_at": when})
                entry |= _tool_columns(name, attributes)
    return batch


def save_batch(engine: Engine, batch: Batch) -> int:
    """Write a batch, skipping requests already stored; returns the rows written or changed.

    Two exports of one batch at once can both find a row missing: the loser's unique key fails, and its second
    pass finds the winner's rows and skips them.
    """
    from sqlalchemy.exc import IntegrityError

    try:
        return _save(engine, batch)
    except IntegrityError:
        return _save(engine, batch)


def _save(engine: Engine, batch: Batch) -> int:
    from sqlmodel import Session, col, select

    from server.store.models import ApiRequest, ToolDecision

    written = 0
    with Session(engine) as session:
        sessions = {row.session_id for row in batch.requests}
        seen: set[tuple[str, int | None]] = set(
            session.exec(
                select(ApiRequest.session_id, ApiRequest.event_sequence).where(col(ApiRequest.session_id).in_(sessions))
            ).all()
        )
        for row in batch.requests:
            key = (row.session_id, row.event_sequence)
            if row.event_sequence is None or key not in seen:
                seen.add(key)
                session.add(ApiRequest(**row.model_dump(exclude={"id"})))  # a copy: a retry must start clean
                written += 1
        existing: dict[str, ToolDecision] = {
            row.tool_use_id: row
            for row in session.exec(select(ToolDecision).where(col(ToolDecision.tool_use_id).in_(list(batch.tools))))
        }
        for tool_use_id, columns in batch.tools.items():
            row = existing.get(tool_use_id) or ToolDecision(tool_use_id=tool_use_id, **columns)
            for key, value in columns.items():
                if key != "created_at" or row.id is None:
                    setattr(row, key, value)
            session.add(row)
            written += 1
        session.commit()
    return written
