"""``doctor``'s word on other agents' logs: how many lines of which CLI version import did not understand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.doctor.base import Check, DoctorContext

__all__ = ["agent_log_checks"]


def agent_log_checks(ctx: DoctorContext) -> Iterable[Check]:
    """One line per agent and CLI version whose logs had lines import skipped, with the commonest reasons."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session, col, select

    from server.doctor.base import Check
    from server.store.database import make_engine
    from server.store.models import AgentLog

    url = make_url(ctx.settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with Session(engine) as db:
            rows = list(db.exec(select(AgentLog).where(col(AgentLog.skipped) > 0)))
    except SQLAlchemyError:
        return  # no agent_log table yet: the database check says the store needs migrating
    finally:
        engine.dispose()
    groups: dict[tuple[str, str | None], Counter[str]] = {}
    for row in rows:
        groups.setdefault((row.agent, row.cli_version), Counter()).update(row.skip_reasons)
    for (agent, version), reasons in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        total = sum(reasons.values())
        named = f"{agent} {version}" if version else agent
        why = "; ".join(f"{n} {reason}" for reason, n in reasons.most_common(3))
        fix = "upgrade switchboard if a newer one reads this version; the rest of each file was imported"
        yield Check(f"{agent} logs", False, f"{total} lines of {named} not understood ({why})", fix)
