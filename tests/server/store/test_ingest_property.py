"""Arbitrary JSON and arbitrary bytes through hooks/capture.sh → ingest: ingest never raises out, every event
that is a JSON object lands exactly once, and the spool empties (the rest quarantined, each with its reason)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from server.store.ingest import ingest_spool
from server.store.models import RawEvent
from server.store.payload import BadEvent, decode_payload
from server.store.spool import Spool
from tests.server.store.spool_support import CAPTURE
from tests.server.store.test_ingest_bad_events import assert_every_payload_is_json_the_database_reads

SH = "/bin/dash" if Path("/bin/dash").exists() else "/bin/sh"
HOOK_NAMES = (
    *("UserPromptSubmit", "PreToolUse", "PostToolUse", "PermissionDenied", "SubagentStart", "SubagentStop"),
    *("SessionStart", "SessionEnd", "Stop", "Notification", "unknown-event"),
)

# Strings as Claude Code may hand them over: anything, plus the lone surrogates and NUL that Node emits.
odd_text = st.builds(
    lambda a, b, c: a + b + c, st.text(max_size=6), st.sampled_from(["\ud83d", "\udc00", "\x00", "\ufffd"]), st.text()
)
strings = st.text(max_size=30) | odd_text
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()  # NaN and ±Infinity included: json.dumps writes them, as a careless producer would
    | strings,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
    max_leaves=20,
)
# Every field a handler reads, with any JSON value in it, not just the type Claude Code sends.
hook_fields = ("session_id", "tool_input", "tool_response", "agent_id")
events = st.fixed_dictionaries(
    {"hook_event_name": st.sampled_from(HOOK_NAMES)},
    optional={
        **{name: json_values for name in (*hook_fields, "transcript_path", "agent_transcript_path", "cwd")},
        **{name: strings for name in ("prompt", "tool_name", "tool_use_id")},  # the type Claude Code sends, too
    },
)
raw_bytes = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.tuples(events.map(lambda e: json.dumps(e).encode()), st.integers(0, 50)).map(lambda t: t[0][: -t[1] or None])
)


def capture(home: Path, data: bytes) -> str:
    new = home / "spool" / "new"
    before = set(os.listdir(new)) if new.exists() else set[str]()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "SWITCHBOARD_HOME": str(home)}
    subprocess.run([SH, str(CAPTURE)], input=data, env=env, check=True, timeout=30)
    [event_id] = set(os.listdir(new)) - before
    return event_id


def is_event(data: bytes) -> bool:
    try:
        decode_payload(data)
    except BadEvent:
        return False
    return True


def stored_counts(engine: Engine, ids: list[str]) -> dict[str, int]:
    with Session(engine) as db:
        query = select(RawEvent.event_id, func.count()).where(col(RawEvent.event_id).in_(ids))
        return dict(db.exec(query.group_by(col(RawEvent.event_id))).all())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(good=st.lists(events, min_size=1, max_size=5), anything=st.lists(raw_bytes, max_size=5), order=st.randoms())
def test_any_input_through_capture_and_ingest_lands_once_or_is_quarantined(
    tmp_path: Path, engine: Engine, good: list[dict[str, Any]], anything: list[bytes], order: Any
) -> None:
    home = tmp_path / uuid.uuid4().hex
    tagged = [(json.dumps(event).encode(), True) for event in good] + [(data, False) for data in anything]
    order.shuffle(tagged)
    inputs = [data for data, _ in tagged]
    ids = [capture(home, data) for data in inputs]
    good_ids = {event_id for event_id, (_, is_good) in zip(ids, tagged, strict=True) if is_good}
    report = ingest_spool(engine, Spool(home / "spool"))  # raising out of here is the failure being looked for
    assert report.error is None
    assert report.remaining == 0 and os.listdir(home / "spool" / "new") == []
    expected = {event_id for event_id, data in zip(ids, inputs, strict=True) if is_event(data)}
    assert good_ids <= expected
    assert stored_counts(engine, ids) == dict.fromkeys(expected, 1)
    quarantine = home / "spool" / "quarantine"
    for event_id in set(ids) - expected:
        assert (quarantine / event_id).exists() and (quarantine / f"{event_id}.reason").read_text().strip()
    assert_every_payload_is_json_the_database_reads(engine)
    again = ingest_spool(engine, Spool(home / "spool"))
    assert (again.error, again.ingested, again.quarantined) == (None, 0, 0)
