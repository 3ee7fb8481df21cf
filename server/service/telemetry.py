"""Claude Code's own telemetry (OTLP/HTTP JSON logs) into rows: ``api_request`` and ``tool_decision``.

A body is ``resourceLogs[].scopeLogs[].logRecords[]``; each record's body is ``claude_code.<event>`` and its
attributes are ``{key, value: {stringValue|intValue|doubleValue|boolValue}}`` (Claude Code 2.1.328 sends most
numbers as strings). ``api_request`` becomes a row, deduplicated on its session and a fingerprint of everything it
says (an exporter retries a batch it thinks failed; a different record that reuses a session's ``event.sequence``
is kept beside the first, so a forged first record cannot drop the real one). ``tool_decision`` and
``tool_result`` fill one ``tool_decision`` row per session and ``tool_use_id``: a record never changes another
session's row. Prompts are never stored (Claude Code redacts them anyway); nothing else is kept.

Values are checked before anything is stored: a record whose cost is negative, not finite or above
:data:`MAX_COST_USD`, or whose token count or duration is not a plausible whole number, is refused with the reason
(the OTLP ``partialSuccess`` answer), and the good records beside it are kept.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.store.models import ApiRequest, ToolDecision

__all__ = ["MAX_COST_USD", "MAX_DEPTH", "MAX_TOKENS", "Batch", "depth_within", "parse_logs", "save_batch"]

Attributes = dict[str, Any]

MAX_COST_USD = 1000.0
"""Above this a single API request's cost is not a figure Claude Code reports: the record is refused."""
MAX_TOKENS = 100_000_000
"""No model reads or writes this many tokens in one request."""
MAX_DURATION_MS = 24 * 3600 * 1000.0
MAX_DEPTH = 32
"""OTLP logs nest about ten levels (a kvlist value a few more); a deeper body is refused before it is read."""


class Refused(ValueError):
    """A record's value is not one Claude Code sends; the message names the field and why."""


def depth_within(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON ``value`` nests at most ``limit`` arrays and objects deep (level by level, no recursion)."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        below: list[Any] = []
        for item in level:
            children: Any = item.values() if isinstance(item, dict) else item
            below += [child for child in children if isinstance(child, dict | list)]
        level = below
    return True


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


def _checked_float(attributes: Attributes, key: str, most: float, unit: str = "") -> float | None:
    """``key`` as a float in [0, ``most``]; None when absent. Raises :class:`Refused` otherwise."""
    raw = attributes.get(key)
    if raw in (None, ""):
        return None
    if isinstance(raw, bool):
        raise Refused(f"{key} is not a number")
    try:
        number = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise Refused(f"{key} is not a number") from None
    if not math.isfinite(number):
        raise Refused(f"{key} is not finite")
    if number < 0:
        raise Refused(f"{key} is negative")
    if number > most:
        raise Refused(f"{key} {number:g} is above {unit}{most:g}")
    return number


def _checked_count(attributes: Attributes, key: str) -> int:
    """``key`` as a token count in [0, :data:`MAX_TOKENS`]; 0 when absent. Raises :class:`Refused` otherwise."""
    raw = attributes.get(key)
    if raw in (None, ""):
        return 0
    if isinstance(raw, bool):
        raise Refused(f"{key} is not a whole number")
    number = _int(raw)
    if number is None or (isinstance(raw, float) and not raw.is_integer()):
        raise Refused(f"{key} is not a whole number")
    if number < 0:
        raise Refused(f"{key} is negative")
    if number > MAX_TOKENS:
        raise Refused(f"{key} {number} is above {MAX_TOKENS}")
    return number


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
    """The rows one OTLP body carries, and the records refused with their reasons."""

    requests: list[ApiRequest] = field(default_factory=lambda: [])
    tools: dict[tuple[str, str], dict[str, Any]] = field(default_factory=lambda: {})
    """Per (session_id, tool_use_id): the columns its events set."""
    refused: list[str] = field(default_factory=lambda: [])
    """One reason per refused record: the event, its session and what was wrong."""


def _api_request(attributes: Attributes, when: datetime) -> ApiRequest | None:
    from server.store.models import ApiRequest

    session = _str(attributes.get("session.id"))
    if session is None:
        return None
    row = ApiRequest(
        session_id=session,
        prompt_id=_str(attributes.get("prompt.id")),
        request_id=_str(attributes.get("request_id") or attributes.get("request.id")),
        event_sequence=_int(attributes.get("event.sequence")),
        model=_str(attributes.get("model")),
        cost_usd=_checked_float(attributes, "cost_usd", MAX_COST_USD, "$"),
        duration_ms=_checked_float(attributes, "duration_ms", MAX_DURATION_MS),
        ttft_ms=_checked_float(attributes, "ttft_ms", MAX_DURATION_MS),
        input_tokens=_checked_count(attributes, "input_tokens"),
        output_tokens=_checked_count(attributes, "output_tokens"),
        cache_read_tokens=_checked_count(attributes, "cache_read_tokens"),
        cache_creation_tokens=_checked_count(attributes, "cache_creation_tokens"),
        query_source=_str(attributes.get("query_source")),
        agent_id=_str(attributes.get("agent_id") or attributes.get("agent.id")),
        created_at=when,
    )
    row.fingerprint = fingerprint(row)
    return row


def fingerprint(row: ApiRequest) -> str:
    """A digest of everything a request row says: an exporter's retry repeats it, another record does not."""
    said = row.model_dump(mode="json", exclude={"id", "fingerprint"})
    return hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()


def _tool_columns(name: str, attributes: Attributes) -> dict[str, Any]:
    columns: dict[str, Any] = {"tool_name": _str(attributes.get("tool_name") or attributes.get("tool.name"))}
    if name == "tool_decision":
        columns |= {"decision": _str(attributes.get("decision")), "source": _str(attributes.get("source"))}
    else:
        duration = _checked_float(attributes, "duration_ms", MAX_DURATION_MS)
        columns |= {"success": _bool(attributes.get("success")), "duration_ms": duration}
    return {key: value for key, value in columns.items() if value is not None}


def parse_logs(body: Any) -> Batch:
    """The rows in an OTLP/HTTP JSON logs body; records of other events are skipped, bad values refused.

    Raises:
        ValueError: the body is not an OTLP logs object.
    """
    batch = Batch()
    for name, attributes, when in _records(body):
        try:
            _add(batch, name, attributes, when)
        except Refused as refused:
            session = _str(attributes.get("session.id")) or "?"
            batch.refused.append(f"{name} of session {session[:64]}: {refused}")
    return batch


def _add(batch: Batch, name: str, attributes: Attributes, when: datetime) -> None:
    if name == "api_request":
        row = _api_request(attributes, when)
        if row is not None:
            batch.requests.append(row)
    elif name in ("tool_decision", "tool_result"):
        tool_use_id = _str(attributes.get("tool_use_id"))
        session = _str(attributes.get("session.id"))
        if tool_use_id and session:
            columns = _tool_columns(name, attributes)
            batch.tools.setdefault((session, tool_use_id), {"created_at": when}).update(columns)


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
        seen: set[tuple[str, str | None]] = set(
            session.exec(
                select(ApiRequest.session_id, ApiRequest.fingerprint).where(col(ApiRequest.session_id).in_(sessions))
            ).all()
        )
        for row in batch.requests:
            key = (row.session_id, row.fingerprint)
            if key not in seen:
                seen.add(key)
                session.add(ApiRequest(**row.model_dump(exclude={"id"})))  # a copy: a retry must start clean
                written += 1
        existing = _tool_rows(session, batch)
        for (session_id, tool_use_id), columns in batch.tools.items():
            row = existing.get((session_id, tool_use_id))
            row = row or ToolDecision(session_id=session_id, tool_use_id=tool_use_id, **columns)
            for key, value in columns.items():
                if key != "created_at" or row.id is None:
                    setattr(row, key, value)
            session.add(row)
            written += 1
        session.commit()
    return written


def _tool_rows(session: Any, batch: Batch) -> dict[tuple[str, str], ToolDecision]:
    """The stored rows of the batch's tool calls, each looked up in its own session only."""
    from sqlmodel import col, select

    from server.store.models import ToolDecision

    if not batch.tools:
        return {}
    ids = {tool_use_id for _, tool_use_id in batch.tools}
    statement = select(ToolDecision).where(col(ToolDecision.tool_use_id).in_(ids))
    rows = session.exec(statement)
    return {(r.session_id, r.tool_use_id): r for r in rows if (r.session_id, r.tool_use_id) in batch.tools}
