"""Running ingest: once (``switchboard ingest``, the SessionEnd hook) or periodically inside a server.

Every entry point takes the same lock file (``spool/.ingest.lock``, ``fcntl``), so the MCP server, the
dashboard and a hook-started ingest never work the same spool at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from contextlib import contextmanager
from functools import partial

import anyio
import anyio.to_thread
from sqlalchemy import Engine

from server.file_lock import held
from server.private import tighten
from server.settings import Settings
from server.store.ingest import IngestReport, ingest_spool
from server.store.spool import Spool
from server.store.transcripts import TranscriptCache

__all__ = ["LOCK_NAME", "IngestBusy", "ingest_lock", "ingest_once", "ingest_periodically"]

logger = logging.getLogger(__name__)

LOCK_NAME = ".ingest.lock"
_POLL_S = 0.05


class IngestBusy(TimeoutError):
    """Another process held the ingest lock for longer than we were willing to wait."""


@contextmanager
def ingest_lock(spool: Spool, timeout_s: float) -> Generator[None]:
    """Hold the spool's ingest lock; wait up to ``timeout_s`` for another holder.

    Raises:
        IngestBusy: the lock was still held after ``timeout_s``.
    """
    spool.ensure()
    path = spool.root / LOCK_NAME
    with held(path, timeout_s, _POLL_S, lambda: IngestBusy(f"another ingest holds {path}")):
        yield


def ingest_once(
    settings: Settings, engine: Engine, *, cache: TranscriptCache | None = None, lock_timeout_s: float = 30.0
) -> IngestReport:
    """Ingest the spool under ``settings.home`` once, under the ingest lock.

    Returns:
        The counts. When another ingest kept the lock past ``lock_timeout_s``, nothing is done and
        ``error`` says so; when the store was unavailable, ``error`` says why and the files stay.
    """
    tighten(settings.home)  # a home an earlier version left 0755 becomes private on the next ingest
    spool = Spool(settings.spool_dir)
    try:
        with ingest_lock(spool, lock_timeout_s):
            report = ingest_spool(engine, spool, cache=cache)
            _land_records(settings, engine)
            return report
    except IngestBusy as exc:
        return IngestReport(remaining=spool.count_pending(), error=str(exc), busy=True)


def _land_records(settings: Settings, engine: Engine) -> None:
    """Land the recorder's batches that waited in ``spool/records/`` (a store that was busy when they came)."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.store.record_batches import replay

    try:
        landed = replay(engine, settings.spool_dir / "records")
    except SQLAlchemyError as exc:
        logger.warning("recorded calls still wait in the spool: %s", exc)
        return
    if landed:
        logger.info("landed %d recorded batch(es) from the spool", landed)


async def ingest_periodically(
    settings: Settings,
    engine: Engine,
    interval_s: float | None = None,
    *,
    on_report: Callable[[IngestReport], None] | None = None,
) -> None:
    """Ingest every ``interval_s`` seconds (default ``settings.ingest_interval_s``) until cancelled.

    Runs each ingest in a worker thread; errors are logged and the loop goes on. Start it in a task group
    from a lifespan and cancel the group on shutdown.

    Args:
        settings: Where the spool is.
        engine: The store.
        interval_s: Seconds between the end of one run and the start of the next.
        on_report: Called in the event loop after each run (e.g. to tell live pages new rows are in).
    """
    interval = settings.ingest_interval_s if interval_s is None else interval_s
    cache = TranscriptCache()
    run = partial(ingest_once, settings, engine, cache=cache, lock_timeout_s=0.0)
    while True:
        try:
            report = await anyio.to_thread.run_sync(run)
        except Exception:
            logger.exception("periodic ingest failed; retrying in %.1f s", interval)
        else:
            if report.busy:
                logger.debug("periodic ingest skipped: %s", report.error)  # the other one is doing the work
            elif report.error:
                logger.warning("periodic ingest: %s", report.summary())
            elif report.ingested or report.quarantined:
                logger.info("periodic ingest: %s", report.summary())
            if on_report is not None:
                on_report(report)
        await anyio.sleep(interval)
