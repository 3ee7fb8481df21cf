"""The small file the status line reads: today's spend, each session's delegations, open breakers, budgets.

``hooks/statusline.py`` runs once per Claude Code refresh as ``python3 -I -S``; it cannot afford the store. The
service keeps ``service/statusline.json`` (0600) current instead, every :data:`INTERVAL_S` seconds, written only
when it changed and replaced atomically, so a reader sees the old file or the new one, never half of one.

"Today" is the UTC day, as the daily budget counts it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from server.config import BudgetConfig

__all__ = ["FILE_NAME", "INTERVAL_S", "build_summary", "keep_summary", "write_summary"]

logger = logging.getLogger(__name__)

FILE_NAME = "statusline.json"
INTERVAL_S = 2.0
MAX_SESSIONS = 200
"""The sessions of the day the file describes at most (the most recently active ones)."""


def _midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _sessions(db: Session, since: datetime) -> dict[str, dict[str, Any]]:
    """Today's sessions: the cost of record the store holds, and each one's delegate calls and net saving."""
    from server.analytics import Window
    from server.analytics.savings import savings
    from server.store.models import AgentSession, Delegation

    found: dict[str, dict[str, Any]] = {}
    started = select(AgentSession.session_id, AgentSession.cost_usd).where(col(AgentSession.started_at) >= since)
    for session_id, cost in db.exec(started.order_by(col(AgentSession.started_at).desc()).limit(MAX_SESSIONS)):
        found[session_id] = {"stored_usd": cost}
    active = (
        select(Delegation.session_id, func.max(Delegation.created_at))
        .where(col(Delegation.created_at) >= since, col(Delegation.session_id).is_not(None))
        .group_by(col(Delegation.session_id))
        .order_by(func.max(Delegation.created_at).desc())
        .limit(MAX_SESSIONS)
    )
    for session_id, _ in db.exec(active).all():
        saved = savings(db, Window(session_id=session_id))
        entry = found.setdefault(str(session_id), {"stored_usd": None})
        entry.update(delegations=saved.delegated_calls, saved_usd=round(saved.saved_usd, 6))
    return found


def build_summary(
    engine: Engine, open_breakers: Iterable[str], budgets: BudgetConfig, now: datetime | None = None
) -> dict[str, Any]:
    """What the status line shows, as JSON-ready data (figures in USD)."""
    from server.analytics.spend import spend_since
    from server.routing.budgets import current_spend

    now = now or datetime.now(UTC)
    since = _midnight(now)
    with Session(engine) as db:
        [spend] = spend_since(db, [since])
        sessions = _sessions(db, since)
    summary: dict[str, Any] = {
        "day": since.date().isoformat(),
        "today_usd": round(spend.session_cost_usd + (spend.delegation_cost_usd or 0.0), 6),
        "sessions": sessions,
        "breakers": sorted(set(open_breakers)),
    }
    if budgets.daily_usd is not None:
        summary["daily_cap_usd"] = budgets.daily_usd
        summary["daily_spent_usd"] = round(current_spend(engine, None, now).today_usd, 6)
    return summary


def write_summary(folder: Path, summary: dict[str, Any], written_at: float | None = None) -> None:
    """Replace ``folder/statusline.json`` with ``summary`` (0600), stamped with the time it was written."""
    text = json.dumps({**summary, "written_at": written_at or time.time()}, allow_nan=False, separators=(",", ":"))
    temporary = folder / f"{FILE_NAME}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    temporary.replace(folder / FILE_NAME)


async def keep_summary(
    folder: Path,
    engine: Engine,
    open_breakers: Callable[[], list[str]],
    budgets: BudgetConfig,
    interval_s: float = INTERVAL_S,
) -> None:
    """Rewrite the summary every ``interval_s`` until cancelled; its ``written_at`` says the service is alive."""
    last: dict[str, Any] | None = None
    last_written = 0.0
    while True:
        try:
            summary = await anyio.to_thread.run_sync(build_summary, engine, open_breakers(), budgets)
            # Rewritten when it changed, and at least every 10 intervals so its age tells a reader the service lives.
            if summary != last or time.time() - last_written >= 10 * interval_s:
                await anyio.to_thread.run_sync(write_summary, folder, summary)
                last, last_written = summary, time.time()
        except Exception:
            logger.exception("could not update the status line's summary")
        await anyio.sleep(interval_s)
