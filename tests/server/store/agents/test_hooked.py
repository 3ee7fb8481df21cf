"""Ingest reads the log a Codex / Gemini CLI hook event names, and only a file shaped and placed like one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from server.store.agents.hooked import read_named_logs
from server.store.hook_rows import HookEvent
from server.store.models import AgentLog, utcnow


def _event(agent: str, path: Path) -> HookEvent:
    payload = {"hook_event_name": "Stop", "session_id": "s1", "transcript_path": str(path)}
    return HookEvent(f"e1.{agent}", "Stop", "s1", utcnow(), payload)


def test_a_named_file_that_is_no_log_of_that_cli_is_not_read(engine: Engine, tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN KEY-----\n")
    with Session(engine) as db:
        read_named_logs(db, [_event("codex", secret), _event("gemini", secret)])
        db.commit()
        assert db.exec(select(AgentLog)).all() == []


def test_a_named_codex_rollout_is_read(engine: Engine, tmp_path: Path) -> None:
    rollout = tmp_path / "sessions" / "2026" / "rollout-2026-12-05T08-00-00-0a2456c-ffc8-7fa3-b2e5-3bcc8bbc9525.jsonl"
    rollout.parent.mkdir(parents=True)
    meta = '{"timestamp":"2026-12-05T08:00:00Z","type":"session_meta","payload":{"id":"s1","cli_version":"0.171.0"}}'
    rollout.write_text(meta + "\n")
    with Session(engine) as db:
        read_named_logs(db, [_event("codex", rollout)])
        db.commit()
        assert [(r.agent, r.session_id, r.cli_version) for r in db.exec(select(AgentLog))] == [
            ("codex", "s1", "0.171.0")
        ]
