"""``switchboard stats``: usage, cost, savings and provider health, as tables or JSON.

It ingests the spool first (unless ``--no-ingest``), so a session that just ended is counted.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from server.json_output import dumps
from server.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.analytics.report import StatsReport
    from server.analytics.session_detail import SessionDetail
    from server.config import SwitchboardConfig

__all__ = ["HELP", "add_arguments", "positive_days", "run", "when"]

HELP = "usage, cost, savings and provider health"

TABLE_ROWS = 20
ALL_SESSIONS = 1_000_000_000

_SECTIONS = ("sessions", "tools", "subagents", "delegations", "health", "savings", "patterns", "context", "routing")


def when(text: str, now: datetime | None = None) -> datetime:
    """``today``, ``yesterday`` (the start of that local day), or an ISO date or time (UTC unless it says).

    Raises:
        argparse.ArgumentTypeError: anything else; argparse names the flag before this message.
    """
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        local = (now or datetime.now(UTC)).astimezone()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days=1) if word == "yesterday" else midnight
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: give an ISO date or time (2026-11-28, 2026-11-28T09:30), today or yesterday"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def positive_days(text: str) -> float:
    """A number of days above 0 and at most MAX_DAYS (``--days 0`` was read as the default, 7 days)."""
    from server.limits import MAX_DAYS

    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not 0 < days <= MAX_DAYS:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"must be more than 0 days and at most {MAX_DAYS} (got {text}); use --all for all time"
        )
    return days


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--days", type=positive_days, help="look back this many days (default 7; all time with --session)"
    )
    window = "ISO date or time (UTC), or today / yesterday (local)"
    parser.add_argument("--since", type=when, help=f"start of the window: {window}")
    parser.add_argument("--until", type=when, help=f"end of the window, exclusive: {window}")
    parser.add_argument("--all", action="store_true", help="all time")
    parser.add_argument("--project", help="only sessions of this project")
    parser.add_argument("--agent", choices=("claude-code", "codex", "gemini"), help="only sessions of this agent")
    parser.add_argument("--mine", action="store_true", help="only my sessions ([team] user, else the OS account)")
    parser.add_argument("--session", metavar="SESSION_ID", help="only this session; adds its timeline")
    parser.add_argument("--section", action="append", choices=_SECTIONS, help="show only this part (repeatable)")
    parser.add_argument("--limit", type=int, help="rows per table (default 20; with --json, every session)")
    parser.add_argument("--json", action="store_true", help="print JSON (every listed session with its cost_usd)")
    parser.add_argument("--no-ingest", action="store_true", help="do not ingest the spool first")


def _window(args: argparse.Namespace) -> Any:
    from server.analytics.window import DEFAULT_DAYS, Window

    since = args.since
    if since is None and not args.all and not (args.session and args.days is None):
        since = datetime.now(UTC) - timedelta(days=DEFAULT_DAYS if args.days is None else args.days)
    user = None
    if args.mine:
        from server.team import current_identity

        user = current_identity().user
    return Window(
        since=since, until=args.until, project=args.project, session_id=args.session, agent=args.agent, user=user
    )


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 1 when the config or the store cannot be read, 2 for an unknown ``--session``."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.config import ConfigError, load_config
    from server.store.database import open_store
    from server.store.ingest import describe_store_error

    settings = Settings()
    try:
        config = load_config(settings)
        database = open_store(settings)
    except ConfigError as exc:
        print(f"switchboard stats: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"switchboard stats: {describe_store_error(exc)}", file=sys.stderr)
        return 1
    try:
        if not args.no_ingest:
            _ingest(settings, database)
        stats, detail = _collect(args, database, config)
    finally:
        database.dispose()
    if args.session and detail is None:
        print(f"switchboard stats: no session {args.session} in the store", file=sys.stderr)
    _print(args, stats, detail)
    return 2 if args.session and detail is None else 0


def _ingest(settings: Settings, database: Engine) -> None:
    """Ingest the spool so a session that just ended is counted; a failure is said, not fatal."""
    from server.store.background import ingest_once

    report = ingest_once(settings, database, lock_timeout_s=5.0)
    if report.error:
        print(f"switchboard stats: ingest: {report.error}", file=sys.stderr)


def _collect(
    args: argparse.Namespace, database: Engine, config: SwitchboardConfig
) -> tuple[StatsReport, SessionDetail | None]:
    """The report for the window and sections ``args`` name, and ``--session``'s detail (None: none asked or found)."""
    from sqlmodel import Session

    from server.analytics.report import SECTIONS, Section, build_report
    from server.analytics.session_detail import session_detail

    sections = cast(tuple[Section, ...], tuple(args.section) if args.section else SECTIONS)
    session_limit = args.limit or (ALL_SESSIONS if args.json else TABLE_ROWS)
    with Session(database) as db:
        stats = build_report(
            db, _window(args), sections, session_limit=session_limit, context=config.context, routing=config.routing
        )
        return stats, session_detail(db, args.session) if args.session else None


def _print(args: argparse.Namespace, stats: StatsReport, detail: SessionDetail | None) -> None:
    """The report as JSON (with ``session_detail``) or as tables (with the session's timeline)."""
    from server.analytics.render import render_report
    from server.analytics.text import render_timeline

    if args.json:
        data = stats.model_dump(mode="json")
        if detail is not None:
            data["session_detail"] = detail.model_dump(mode="json")
        print(dumps(data, indent=2))
        return
    print(render_report(stats, limit=args.limit or TABLE_ROWS))
    if detail is not None:
        print()
        print(render_timeline(detail))
