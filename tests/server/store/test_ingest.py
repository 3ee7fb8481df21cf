"""Ingest maps hook events onto the store's tables, exactly once, whatever order they arrive in."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from server.settings import Settings
from server.store.hook_rows import HookEvent, apply_events
from server.store.ingest import ingest_spool
from server.store.models import AgentSession, Prompt, RawEvent, SubagentRun, ToolCall
from server.store.spool import Spool
from tests.server.store.spool_support import hook, pending, raw_event_count, spool_event

T0 = 1_700_000_000.0


def _ingest(settings: Settings, engine: Engine) -> tuple[int, int, int, int]:
    report = ingest_spool(engine, Spool(settings.spool_dir))
    assert report.error is None
    return report.ingested, report.duplicates, report.quarantined, report.remaining


def test_every_event_becomes_a_raw_event_row_and_its_file_is_removed(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    ids = [
        spool_event(spool, hook("SessionStart", source="startup"), at=T0),
        spool_event(spool, hook("SomeFutureEvent", novel_field=[1, 2]), at=T0 + 1),
        spool_event(spool, {"no": "hook name at all"}, at=T0 + 2),
    ]
    assert _ingest(settings, engine) == (3, 0, 0, 0)
    assert pending(spool) == []
    with Session(engine) as db:
        rows = {row.event_id: row for row in db.exec(select(RawEvent))}
    assert set(rows) == set(ids)
    assert rows[ids[1]].event_name == "SomeFutureEvent"
    assert rows[ids[1]].payload["novel_field"] == [1, 2]
    assert rows[ids[2]].event_name == "unknown" and rows[ids[2]].session_id is None
    assert rows[ids[0]].received_at.timestamp() == T0


def test_the_same_file_ingested_twice_adds_nothing(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    payload = hook("UserPromptSubmit", prompt="hello")
    spool_event(spool, payload, name="evt-once", at=T0)
    assert _ingest(settings, engine) == (1, 0, 0, 0)
    # As if the previous run died after its commit but before removing the file.
    spool_event(spool, payload, name="evt-once", at=T0)
    assert _ingest(settings, engine) == (0, 1, 0, 0)
    assert pending(spool) == []
    with Session(engine) as db:
        assert len(db.exec(select(Prompt)).all()) == 1
    assert raw_event_count(engine) == 1


def test_session_lifecycle_fills_the_session_row(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    spool_event(spool, hook("SessionStart", source="startup", cwd="/home/me/src/switchboard/"), at=T0)
    spool_event(spool, hook("UserPromptSubmit", prompt="fix the bug"), at=T0 + 5)
    spool_event(spool, hook("SessionEnd", reason="prompt_input_exit"), at=T0 + 60)
    _ingest(settings, engine)
    with Session(engine) as db:
        row = db.exec(select(AgentSession)).one()
        prompt = db.exec(select(Prompt)).one()
    assert row.session_id == "sess-1"
    assert (row.cwd, row.project, row.source, row.end_reason) == (
        "/home/me/src/switchboard/",
        "switchboard",
        "startup",
        "prompt_input_exit",
    )
    assert row.started_at is not None and row.started_at.timestamp() == T0
    assert row.ended_at is not None and row.ended_at.timestamp() == T0 + 60
    assert row.last_event_at == row.ended_at
    assert row.transcript_path == "/nonexistent/sess-1.jsonl"
    assert (prompt.text, prompt.session_id, prompt.created_at.timestamp()) == ("fix the bug", "sess-1", T0 + 5)


def test_pre_and_post_tool_use_join_on_tool_use_id(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    pre = hook("PreToolUse", tool_name="Bash", tool_use_id="toolu_1", tool_input={"command": "ls -la"})
    post = {**pre, "hook_event_name": "PostToolUse", "tool_response": {"stdout": "total 0", "stderr": ""}}
    spool_event(spool, pre, at=T0)
    spool_event(spool, post, at=T0 + 1.25)
    _ingest(settings, engine)
    with Session(engine) as db:
        call = db.exec(select(ToolCall)).one()
    assert (call.tool_name, call.status, call.session_id) == ("Bash", "ok", "sess-1")
    assert call.duration_ms is not None and abs(call.duration_ms - 1250) < 1
    assert call.input_summary == '{"command": "ls -la"}'
    assert call.response_summary is not None and "total 0" in call.response_summary


def test_post_handled_before_pre_in_one_batch_still_joins(engine: Engine) -> None:
    pre = hook("PreToolUse", tool_name="Read", tool_use_id="toolu_2", tool_input={"file_path": "/a"})
    failure = {**pre, "hook_event_name": "PostToolUseFailure", "error": "ENOENT: no such file", "is_interrupt": False}
    start = datetime.fromtimestamp(T0, UTC)
    events = [
        HookEvent("e-post", "PostToolUseFailure", "sess-1", start + timedelta(seconds=1.5), failure),
        HookEvent("e-pre", "PreToolUse", "sess-1", start, pre),
    ]
    with Session(engine) as db:
        assert apply_events(db.connection(), events) == {"sess-1"}
        db.commit()
        call = db.exec(select(ToolCall)).one()
    assert (call.status, call.error, call.tool_name, call.duration_ms) == (
        "error",
        "ENOENT: no such file",
        "Read",
        1500.0,
    )
    assert call.started_at == start


def test_post_in_a_later_run_completes_the_pending_call(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    pre = hook("PreToolUse", tool_name="Bash", tool_use_id="toolu_3", tool_input={"command": "sleep 1"}, agent_id="ag1")
    spool_event(spool, pre, at=T0)
    _ingest(settings, engine)
    with Session(engine) as db:
        assert db.exec(select(ToolCall)).one().status == "pending"
    spool_event(spool, {**pre, "hook_event_name": "PostToolUse", "tool_response": "done"}, at=T0 + 2)
    _ingest(settings, engine)
    with Session(engine) as db:
        call = db.exec(select(ToolCall)).one()
    assert (call.status, call.duration_ms, call.agent_id, call.response_summary) == ("ok", 2000.0, "ag1", "done")


def test_long_tool_input_and_response_are_summarised_not_stored_whole(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    pre = hook("PreToolUse", tool_name="Write", tool_use_id="toolu_4", tool_input={"content": "x" * 50_000})
    spool_event(spool, pre, at=T0)
    spool_event(spool, {**pre, "hook_event_name": "PostToolUse", "tool_response": "y" * 50_000}, at=T0 + 1)
    _ingest(settings, engine)
    with Session(engine) as db:
        call = db.exec(select(ToolCall)).one()
    assert call.input_summary is not None and len(call.input_summary) == 500 and call.input_summary.endswith("…")
    assert call.response_summary is not None and len(call.response_summary) == 500


def test_subagent_start_and_stop_join_on_agent_id_in_any_order(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    stop = hook(
        "SubagentStop",
        agent_id="agent-a",
        agent_type="Explore",
        agent_transcript_path="/nonexistent/agent-a.jsonl",
        stop_hook_active=False,
    )
    spool_event(spool, stop, at=T0 + 30)
    _ingest(settings, engine)
    spool_event(spool, hook("SubagentStart", agent_id="agent-a", agent_type="Explore"), at=T0)
    spool_event(spool, hook("SubagentStart", agent_id="agent-b", agent_type="Plan", parent_agent_id="agent-a"), at=T0)
    _ingest(settings, engine)
    with Session(engine) as db:
        runs = {run.agent_id: run for run in db.exec(select(SubagentRun))}
    a, b = runs["agent-a"], runs["agent-b"]
    assert (a.agent_type, a.duration_ms, a.transcript_path) == ("Explore", 30_000.0, "/nonexistent/agent-a.jsonl")
    assert (b.agent_type, b.parent_agent_id, b.stopped_at, b.duration_ms) == ("Plan", "agent-a", None, None)


def test_events_of_many_sessions_in_one_batch_land_on_their_own_sessions(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    for n in range(30):
        spool_event(spool, hook("UserPromptSubmit", session_id=f"s{n % 3}", prompt=f"p{n}"), at=T0 + n)
    report = ingest_spool(engine, Spool(spool), batch_size=7)
    assert (report.ingested, report.error) == (30, None)
    with Session(engine) as db:
        sessions = db.exec(select(AgentSession)).all()
        prompts = db.exec(select(Prompt)).all()
    assert sorted(s.session_id for s in sessions) == ["s0", "s1", "s2"]
    assert sorted(p.text for p in prompts if p.session_id == "s1") == sorted(f"p{n}" for n in range(1, 30, 3))


def test_secrets_are_redacted_before_they_reach_the_database(settings: Settings, engine: Engine) -> None:
    secrets = {
        "anthropic": "sk-ant-api03-" + "A1b2C3d4" * 10,
        "openai": "sk-proj-" + "Zz09" * 12,
        "github": "ghp_" + "a1B2" * 9,
        "aws": "AKIAIOSFODNN7EXAMPLE",
        "slack": "xoxb-123456789012-abcdefABCDEF",
        "bearer": "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    }
    payload = hook(
        "PreToolUse",
        tool_name="Bash",
        tool_use_id="toolu_s",
        tool_input={"command": f"curl -H 'Authorization: {secrets['bearer']}' --key {secrets['openai']}"},
        extra={secrets["github"]: [secrets["aws"], {"nested": secrets["slack"]}], "pem": secrets["pem"]},
    )
    spool = settings.spool_dir
    spool_event(spool, payload, at=T0)
    spool_event(spool, hook("UserPromptSubmit", prompt=f"my key is {secrets['anthropic']} ok?"), at=T0 + 1)
    _ingest(settings, engine)
    with Session(engine) as db:
        stored = repr([r.payload for r in db.exec(select(RawEvent))])
        stored += repr(db.exec(select(ToolCall)).all()) + repr(db.exec(select(Prompt)).all())
    for secret in secrets.values():
        assert secret not in stored
    for fragment in ("A1b2C3d4", "Zz09Zz09", "a1B2a1B2", "IOSFODNN7", "abcdefABCDEF", "eyJhbGci", "MIIEowIBAAKCAQEA"):
        assert fragment not in stored
    assert "my key is [REDACTED:anthropic-key] ok?" in stored
    assert "Bearer [REDACTED]" in stored


def test_malformed_files_are_quarantined_with_a_reason_and_ingest_goes_on(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    bad = {
        "empty": b"",
        "blank": b"  \n",
        "notjson": b"this is not json",
        "truncated": b'{"session_id": "s", "hook_event_name": "Pre',
        "binary": bytes(range(256)) * 4,
        "array": b"[1, 2, 3]",
        "huge": b'{"a": "' + b"x" * (6 * 1024 * 1024) + b'"}',
    }
    for n, (name, data) in enumerate(bad.items()):
        spool_event(spool, data, name=name, at=T0 + n)
    good = spool_event(spool, hook("Stop"), at=T0 + 100)
    assert _ingest(settings, engine) == (1, 0, len(bad), 0)
    quarantine = spool / "quarantine"
    reasons = {name: (quarantine / f"{name}.reason").read_text() for name in bad}
    assert {name: (quarantine / name).read_bytes() for name in bad} == bad
    assert reasons["empty"].startswith("empty") and reasons["blank"].startswith("empty")
    assert reasons["notjson"].startswith("not JSON") and reasons["truncated"].startswith("not JSON")
    assert reasons["binary"].startswith("not UTF-8")
    assert reasons["array"].startswith("not a JSON object")
    assert reasons["huge"].startswith("too large")
    with Session(engine) as db:
        assert db.exec(select(RawEvent.event_id)).all() == [good]


def test_a_file_abandoned_in_tmp_is_quarantined_but_a_fresh_one_is_left_alone(
    settings: Settings, engine: Engine
) -> None:
    tmp = settings.spool_dir / "tmp"
    tmp.mkdir(parents=True)
    (tmp / "old").write_bytes(b'{"half": ')
    (tmp / "writing").write_bytes(b'{"half": ')
    an_hour_and_more_ago = time.time() - 3700
    os.utime(tmp / "old", (an_hour_and_more_ago, an_hour_and_more_ago))
    assert _ingest(settings, engine) == (0, 0, 1, 0)
    assert (settings.spool_dir / "quarantine" / "old.reason").read_text().startswith("abandoned in tmp/")
    assert sorted(p.name for p in tmp.iterdir()) == ["writing"]


def test_an_empty_or_missing_spool_is_fine(settings: Settings, engine: Engine, home: Path) -> None:
    assert not (home / "spool").exists()
    assert _ingest(settings, engine) == (0, 0, 0, 0)


def test_an_event_the_store_rejects_is_quarantined_and_the_rest_of_its_batch_stored(
    settings: Settings, engine: Engine
) -> None:
    with Session(engine) as db:  # a prompt row the raw events do not know about: the store is inconsistent
        db.add(Prompt(event_id="clash", session_id="old", text="x", created_at=datetime.fromtimestamp(T0, UTC)))
        db.commit()
    spool = settings.spool_dir
    good = [spool_event(spool, hook("Stop"), at=T0 + n) for n in range(3)]
    spool_event(spool, hook("UserPromptSubmit", prompt="hi"), name="clash", at=T0 + 1.5)
    assert _ingest(settings, engine) == (3, 0, 1, 0)
    assert (spool / "quarantine" / "clash.reason").read_text().startswith("the store rejected it (IntegrityError: ")
    with Session(engine) as db:
        assert sorted(db.exec(select(RawEvent.event_id))) == sorted(good)


def test_nul_characters_and_overlong_ids_do_not_block_ingest(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    long_id = "s" * 300
    spool_event(spool, hook("UserPromptSubmit", session_id=long_id, prompt="a\u0000b"), at=T0)
    pre = hook("PreToolUse", session_id=long_id, tool_name="T" * 300, tool_use_id="u" * 300, tool_input="\u0000")
    spool_event(spool, pre, at=T0 + 1)
    assert _ingest(settings, engine) == (2, 0, 0, 0)
    with Session(engine) as db:
        prompt = db.exec(select(Prompt)).one()
        call = db.exec(select(ToolCall)).one()
    assert (prompt.text, prompt.session_id) == ("ab", "s" * 200)
    assert (call.tool_use_id, call.tool_name) == ("u" * 200, "T" * 200)


def test_foreign_entries_in_spool_new_are_neither_followed_nor_counted(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    event = spool_event(spool, hook("Stop"), at=T0)
    secret = settings.home / "secret.txt"
    secret.write_text('{"hook_event_name": "Stop", "stolen": true}')
    (spool / "new" / "link").symlink_to(secret)
    (spool / "new" / "folder").mkdir()
    assert _ingest(settings, engine) == (1, 0, 0, 0)
    with Session(engine) as db:
        assert db.exec(select(RawEvent.event_id)).all() == [event]
    assert pending(spool) == ["folder", "link"]  # left alone for a person to look at


def test_claude_codes_measured_tool_duration_wins_over_receive_times_in_any_order(engine: Engine) -> None:
    pre = hook("PreToolUse", tool_name="Bash", tool_use_id="toolu_m", tool_input={"command": "make"})
    post = {**pre, "hook_event_name": "PostToolUse", "tool_response": "built", "duration_ms": 812}
    start = datetime.fromtimestamp(T0, UTC)
    with Session(engine) as db:
        apply_events(db.connection(), [HookEvent("e1", "PostToolUse", "sess-1", start + timedelta(seconds=3), post)])
        apply_events(db.connection(), [HookEvent("e2", "PreToolUse", "sess-1", start, pre)])
        db.commit()
        call = db.exec(select(ToolCall)).one()
    assert (call.status, call.duration_ms) == ("ok", 812.0)


def test_a_denied_tool_call_ends_as_an_error_with_the_reason(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    pre = hook("PreToolUse", tool_name="Bash", tool_use_id="toolu_d", tool_input={"command": "rm -rf /"})
    spool_event(spool, pre, at=T0)
    spool_event(spool, {**pre, "hook_event_name": "PermissionDenied", "reason": "auto mode: destructive"}, at=T0 + 1)
    _ingest(settings, engine)
    with Session(engine) as db:
        call = db.exec(select(ToolCall)).one()
    assert (call.status, call.error, call.duration_ms) == ("error", "permission denied: auto mode: destructive", 1000.0)


def test_a_running_subagents_transcript_is_where_claude_code_keeps_it(settings: Settings, engine: Engine) -> None:
    main = "/home/me/.claude/projects/-src-x/sess-1.jsonl"
    spool_event(settings.spool_dir, hook("SubagentStart", agent_id="a9", agent_type="Explore", transcript_path=main))
    _ingest(settings, engine)
    with Session(engine) as db:
        run = db.exec(select(SubagentRun)).one()
    assert run.transcript_path == "/home/me/.claude/projects/-src-x/sess-1/subagents/agent-a9.jsonl"


def test_a_session_resumed_after_it_ended_is_open_again_until_its_next_end(settings: Settings, engine: Engine) -> None:
    spool = settings.spool_dir
    spool_event(spool, hook("SessionStart", source="startup"), at=T0)
    spool_event(spool, hook("SessionEnd", reason="prompt_input_exit"), at=T0 + 10)
    _ingest(settings, engine)
    spool_event(spool, hook("SessionStart", source="resume"), at=T0 + 100)
    _ingest(settings, engine)
    with Session(engine) as db:
        row = db.exec(select(AgentSession)).one()
    assert (row.source, row.ended_at, row.end_reason) == ("resume", None, None)
    assert row.started_at is not None and row.started_at.timestamp() == T0
    spool_event(spool, hook("SessionEnd", reason="logout"), at=T0 + 200)
    _ingest(settings, engine)
    with Session(engine) as db:
        row = db.exec(select(AgentSession)).one()
    assert row.ended_at is not None and (row.ended_at.timestamp(), row.end_reason) == (T0 + 200, "logout")
