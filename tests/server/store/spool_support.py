"""Writing spool files the way hooks/capture.sh does, for the ingest tests."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from server.store.models import RawEvent

CAPTURE = Path(__file__).resolve().parents[3] / "hooks" / "capture.sh"


def spool_event(
    spool: Path, payload: dict[str, Any] | bytes, *, at: float | None = None, name: str | None = None
) -> str:
    """Put one event into ``spool/new`` (via tmp/ and a rename); ``at`` sets its receive time (epoch s)."""
    (spool / "tmp").mkdir(parents=True, exist_ok=True)
    (spool / "new").mkdir(parents=True, exist_ok=True)
    event_id = name or uuid.uuid4().hex[:12]
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    tmp = spool / "tmp" / event_id
    tmp.write_bytes(data)
    if at is not None:
        os.utime(tmp, (at, at))
    os.replace(tmp, spool / "new" / event_id)
    return event_id


def hook(event: str, session_id: str = "sess-1", **fields: Any) -> dict[str, Any]:
    """A hook payload with Claude Code's common fields."""
    return {
        "session_id": session_id,
        "transcript_path": f"/nonexistent/{session_id}.jsonl",
        "cwd": "/work/projects/demo",
        "permission_mode": "default",
        "hook_event_name": event,
        **fields,
    }


def pending(spool: Path) -> list[str]:
    return sorted(os.listdir(spool / "new")) if (spool / "new").exists() else []


def raw_event_count(engine: Engine) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(RawEvent)).one()
