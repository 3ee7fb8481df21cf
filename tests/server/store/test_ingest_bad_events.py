"""No event stops capture: each odd payload the hook spools is stored repaired or quarantined with its reason,
the good events around it land, and every later ingest succeeds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, cast, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, select

from server.settings import Settings
from server.store.ingest import ingest_spool
from server.store.models import Prompt, RawEvent
from server.store.payload import MAX_DEPTH, TOO_DEEP, decode_payload
from server.store.spool import Spool
from tests.server.store.spool_support import CAPTURE, hook

SH = "/bin/dash" if Path("/bin/dash").exists() else "/bin/sh"


def capture(settings: Settings, data: bytes) -> str:
    """Spool ``data`` through the installed hook, as Claude Code does; returns the new event id."""
    new = settings.spool_dir / "new"
    before = set(os.listdir(new)) if new.exists() else set[str]()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(settings.home), "SWITCHBOARD_HOME": str(settings.home)}
    subprocess.run([SH, str(CAPTURE)], input=data, env=env, check=True, timeout=30)
    [event_id] = set(os.listdir(new)) - before
    return event_id


def ingest_ok(settings: Settings, engine: Engine) -> tuple[int, int]:
    report = ingest_spool(engine, Spool(settings.spool_dir))
    assert report.error is None
    assert report.remaining == 0
    return report.ingested, report.quarantined


def stored_payloads(engine: Engine) -> dict[str, dict[str, Any]]:
    with Session(engine) as db:
        return {row.event_id: row.payload for row in db.exec(select(RawEvent))}


def assert_every_payload_is_json_the_database_reads(engine: Engine) -> None:
    """SQLite's JSON functions and PostgreSQL's jsonb accept every stored payload as a JSON object."""
    with Session(engine) as db:
        if engine.dialect.name == "postgresql":
            kinds = db.exec(select(func.jsonb_typeof(cast(RawEvent.payload, JSONB)))).all()
        else:
            assert all(db.exec(select(func.json_valid(RawEvent.payload))).all())
            kinds = db.exec(select(func.json_type(func.json_extract(RawEvent.payload, "$")))).all()
    assert set(kinds) <= {"object"}


def spool_around(settings: Settings, odd: bytes) -> tuple[str, str, str]:
    before = capture(settings, json.dumps(hook("Stop", session_id="good")).encode())
    odd_id = capture(settings, odd)
    after = capture(settings, json.dumps(hook("Stop", session_id="good")).encode())
    return before, odd_id, after


def test_a_lone_surrogate_from_node_is_stored_as_a_replacement_character(settings: Settings, engine: Engine) -> None:
    odd = b'{"hook_event_name":"UserPromptSubmit","session_id":"s1","prompt":"abc\\ud83d"}'
    before, odd_id, after = spool_around(settings, odd)
    assert ingest_ok(settings, engine) == (3, 0)
    payloads = stored_payloads(engine)
    assert set(payloads) == {before, odd_id, after}
    assert payloads[odd_id]["prompt"] == "abc\ufffd"
    with Session(engine) as db:
        assert db.exec(select(Prompt.text)).all() == ["abc\ufffd"]
    assert_every_payload_is_json_the_database_reads(engine)
    capture(settings, json.dumps(hook("Stop")).encode())
    assert ingest_ok(settings, engine) == (1, 0)


def test_the_cli_ingest_of_a_lone_surrogate_succeeds_and_so_does_the_next(settings: Settings, engine: Engine) -> None:
    capture(settings, b'{"hook_event_name":"UserPromptSubmit","session_id":"s1","prompt":"abc\\ud83d"}')
    switchboard = Path(sys.executable).with_name("switchboard")
    for _ in range(2):
        done = subprocess.run([str(switchboard), "ingest"], capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert len(stored_payloads(engine)) == 1


@pytest.mark.parametrize(
    ("odd", "expected"),
    [
        (b'{"hook_event_name":"Stop","n":' + b"7" * 5000 + b"}", "7" * 5000),
        (b'{"hook_event_name":"Stop","n":-' + b"7" * 25 + b"}", "-" + "7" * 25),
        (b'{"hook_event_name":"Stop","n":NaN}', "NaN"),
        (b'{"hook_event_name":"Stop","n":-Infinity}', "-Infinity"),
        (b'{"hook_event_name":"Stop","n":1e400}', "1e400"),
        (b'{"hook_event_name":"Stop","n":"a\\u0000b\\udc00"}', "ab\ufffd"),
    ],
    ids=["5000-digits", "25-digits", "nan", "infinity", "float-overflow", "nul-and-low-surrogate"],
)
def test_numbers_json_cannot_hold_are_kept_as_their_text(
    settings: Settings, engine: Engine, odd: bytes, expected: str
) -> None:
    _, odd_id, _ = spool_around(settings, odd)
    assert ingest_ok(settings, engine) == (3, 0)
    assert stored_payloads(engine)[odd_id]["n"] == expected
    assert_every_payload_is_json_the_database_reads(engine)


def test_ordinary_numbers_stay_numbers(settings: Settings, engine: Engine) -> None:
    _, odd_id, _ = spool_around(settings, b'{"hook_event_name":"Stop","n":[18446744073709551615,-1.5e300,0]}')
    assert ingest_ok(settings, engine) == (3, 0)
    assert stored_payloads(engine)[odd_id]["n"] == [18446744073709551615, -1.5e300, 0]


def test_integers_past_64_bits_up_to_20_digits_stay_exact_integers() -> None:
    # orjson (the fast path) would read these as floats; the standard parser keeps them exact.
    data = b'{"hook_event_name":"Stop","n":[99999999999999999999,-9223372036854775809,18446744073709551616]}'
    payload, _ = decode_payload(data)
    assert payload["n"] == [99999999999999999999, -9223372036854775809, 18446744073709551616]
    assert all(type(n) is int for n in payload["n"])


def test_nesting_too_deep_to_parse_is_quarantined_with_its_reason(settings: Settings, engine: Engine) -> None:
    odd = b'{"hook_event_name":"Stop","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    before, odd_id, after = spool_around(settings, odd)
    assert ingest_ok(settings, engine) == (2, 1)
    assert set(stored_payloads(engine)) == {before, after}
    quarantine = settings.spool_dir / "quarantine"
    assert (quarantine / f"{odd_id}.reason").read_text().startswith("nested too deep to parse")
    assert (quarantine / odd_id).read_bytes() == odd
    capture(settings, json.dumps(hook("Stop")).encode())
    assert ingest_ok(settings, engine) == (1, 0)


def nested(key: str, depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = {key: value}
    return value


def depth_of(value: Any) -> int:
    level = 0
    while isinstance(value, dict):
        value = list(value.values())[-1]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
        level += 1
    return level


def test_600_levels_under_a_secret_key_are_cut_at_the_depth_limit_and_redacted(
    settings: Settings, engine: Engine
) -> None:
    odd = {"hook_event_name": "PreToolUse", "session_id": "s", "tool_input": nested("secret", 600, "hunter2hunter2")}
    _, odd_id, _ = spool_around(settings, json.dumps(odd).encode())
    assert ingest_ok(settings, engine) == (3, 0)
    stored = stored_payloads(engine)[odd_id]
    assert depth_of(stored) == MAX_DEPTH
    assert '"secret": "[REDACTED]"}' in json.dumps(stored)  # the marker cut there, under a key that says secret
    assert "hunter2" not in json.dumps(stored)
    assert_every_payload_is_json_the_database_reads(engine)


def test_nesting_under_the_limit_is_stored_whole(settings: Settings, engine: Engine) -> None:
    odd = {"hook_event_name": "Stop", "x": nested("k", MAX_DEPTH - 2, "leaf")}
    _, odd_id, _ = spool_around(settings, json.dumps(odd).encode())
    ingest_ok(settings, engine)
    assert stored_payloads(engine)[odd_id] == odd


def test_nesting_over_the_limit_ends_in_a_marker(settings: Settings, engine: Engine) -> None:
    odd = {"hook_event_name": "Stop", "x": nested("k", MAX_DEPTH, "leaf")}
    _, odd_id, _ = spool_around(settings, json.dumps(odd).encode())
    ingest_ok(settings, engine)
    assert json.dumps(stored_payloads(engine)[odd_id]).endswith(f'{{"k": "{TOO_DEEP}"}}' + "}" * (MAX_DEPTH - 1))


def test_text_and_numbers_of_every_kind_read_back_equal(settings: Settings, engine: Engine) -> None:
    payload = {
        "hook_event_name": "UserPromptSubmit",
        "session_id": "s1",
        "prompt": 'héllo ✓ 😀 "quoted" \\ back\nslash\ttab \u2028 \x7f',
        "n": [0.1, 1e-7, -0.0, 1.5e300, 123456789.123, 18446744073709551615, -9223372036854775808],
        "nested": {"ключ": [None, True, False, {}, []]},
    }
    for data in (json.dumps(payload).encode(), json.dumps(payload, ensure_ascii=False).encode()):
        _, odd_id, _ = spool_around(settings, data)
        assert ingest_ok(settings, engine) == (3, 0)
        assert stored_payloads(engine)[odd_id] == payload
    assert_every_payload_is_json_the_database_reads(engine)


def test_raw_event_times_are_stored_in_the_text_the_orm_writes(settings: Settings, engine: Engine) -> None:
    """raw_event's fast insert writes its times as SQLAlchemy does for every other row (SQLite keeps the text)."""
    capture(settings, json.dumps(hook("Stop", session_id="s1")).encode())
    assert ingest_ok(settings, engine) == (1, 0)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT received_at, ingested_at FROM raw_event")).one()
        started = conn.execute(text("SELECT started_at FROM session WHERE session_id = 's1'")).scalar_one()
    if engine.dialect.name == "sqlite":
        for stored in (*row, started):
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", stored), stored
        assert row[0] == started  # the session starts at its one event, to the microsecond, in the same text
    with Session(engine) as db:
        event = db.exec(select(RawEvent)).one()
        assert event.received_at.tzinfo is not None and event.received_at.utcoffset() == timedelta(0)
