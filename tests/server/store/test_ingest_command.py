"""`switchboard ingest`, the ingest lock, and the periodic ingest long-running processes start."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Engine

from server.cli import main
from server.settings import Settings
from server.store.background import ingest_lock, ingest_once, ingest_periodically
from server.store.database import make_engine
from server.store.ingest import IngestReport
from server.store.spool import Spool
from tests.server.store.spool_support import CAPTURE, hook, pending, raw_event_count, spool_event
from tests.server.store.test_ingest_resilience import closed_port_url

REPO = Path(__file__).resolve().parents[3]
SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"


def test_ingest_command_prints_one_summary_line_and_logs_it(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_event(settings.spool_dir, hook("Stop"))
    spool_event(settings.spool_dir, b"not json")
    assert main(["ingest"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("ingested 1 events, 0 duplicates, 1 quarantined, 0 remaining\n", "")
    log = (settings.log_dir / "ingest.log").read_text()
    assert "ingested 1 events, 0 duplicates, 1 quarantined, 0 remaining" in log
    assert raw_event_count(engine) == 1
    assert logging.getLogger("server").propagate  # the command put the logging setup back


def test_quiet_ingest_prints_nothing(settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    spool_event(settings.spool_dir, hook("Stop"))
    assert main(["ingest", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert raw_event_count(engine) == 1


def test_a_second_ingest_waits_for_the_lock_and_gives_up_cleanly(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_event(settings.spool_dir, hook("Stop"))
    with ingest_lock(Spool(settings.spool_dir), timeout_s=0):
        assert main(["ingest", "--wait", "0.2"]) == 1
        out, err = capsys.readouterr()
        assert out == "" and "another ingest holds" in err and err.count("\n") == 1
        assert len(pending(settings.spool_dir)) == 1
    assert main(["ingest", "--quiet"]) == 0
    assert raw_event_count(engine) == 1 and pending(settings.spool_dir) == []


def test_an_unreachable_store_exits_1_with_one_line_and_keeps_the_events(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_event(settings.spool_dir, hook("Stop"))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", closed_port_url(database_url))
    assert main(["ingest"]) == 1
    out, err = capsys.readouterr()
    assert (
        out == "" and err.startswith("switchboard ingest: store unavailable (OperationalError") and err.count("\n") == 1
    )
    assert "secret-pw" not in err and "secret-pw" not in (settings.log_dir / "ingest.log").read_text()
    assert len(pending(settings.spool_dir)) == 1


def test_session_end_hook_starts_a_detached_ingest_that_empties_the_spool(settings: Settings, engine: Engine) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(settings.home), "SWITCHBOARD_HOME": str(settings.home)}
    env["SWITCHBOARD_DATABASE_URL"] = settings.resolved_database_url
    payload = b'{"hook_event_name": "SessionEnd", "session_id": "s", "reason": "other"}'
    done = subprocess.run(
        ["/bin/sh", str(CAPTURE), str(SWITCHBOARD), "ingest"], input=payload, env=env, capture_output=True, timeout=10
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    deadline = time.monotonic() + 60
    while raw_event_count(engine) == 0:  # the detached ingest has no other way to tell us it is done
        assert time.monotonic() < deadline, "the detached ingest did not store the event within 60 s"
        time.sleep(0.05)
    with ingest_lock(Spool(settings.spool_dir), timeout_s=30):  # let it finish unlinking
        assert pending(settings.spool_dir) == []


def test_ingest_once_reports_a_busy_lock_without_touching_the_spool(settings: Settings, engine: Engine) -> None:
    spool_event(settings.spool_dir, hook("Stop"))
    with ingest_lock(Spool(settings.spool_dir), timeout_s=0):
        report = ingest_once(settings, engine, lock_timeout_s=0)
    assert report.error is not None and "another ingest holds" in report.error
    assert (report.busy, report.ingested, report.remaining) == (True, 0, 1)


@pytest.mark.anyio
async def test_periodic_ingest_picks_up_events_as_they_arrive(settings: Settings, engine: Engine) -> None:
    reports: list[IngestReport] = []
    arrived = anyio.Event()

    def on_report(report: IngestReport) -> None:
        reports.append(report)
        if sum(r.ingested for r in reports) == 3:
            arrived.set()

    for n in range(3):
        spool_event(settings.spool_dir, hook("UserPromptSubmit", prompt=f"p{n}"))
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(partial(ingest_periodically, settings, engine, 0.05, on_report=on_report))
            await arrived.wait()
            group.cancel_scope.cancel()
    assert raw_event_count(engine) == 3 and pending(settings.spool_dir) == []
    assert all(r.error is None for r in reports)


@pytest.mark.anyio
async def test_periodic_ingest_logs_a_failure_and_keeps_going(
    settings: Settings, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    spool_event(settings.spool_dir, hook("Stop"))
    down = make_engine(closed_port_url(database_url))
    failures: list[IngestReport] = []
    twice = anyio.Event()

    def on_report(report: IngestReport) -> None:
        failures.append(report)
        if len(failures) == 2:
            twice.set()

    caplog.set_level(logging.WARNING, logger="server.store")
    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(partial(ingest_periodically, settings, down, 0.01, on_report=on_report))
                await twice.wait()
                group.cancel_scope.cancel()
    finally:
        down.dispose()
    assert all(r.error and r.error.startswith("store unavailable") for r in failures)
    assert (
        sum("periodic ingest" in r.getMessage() and "store unavailable" in r.getMessage() for r in caplog.records) >= 2
    )
    assert len(pending(settings.spool_dir)) == 1


def test_ingest_runs_as_a_module_for_the_hook(settings: Settings, engine: Engine) -> None:
    spool_event(settings.spool_dir, hook("Stop"))
    done = subprocess.run(
        [sys.executable, "-m", "server", "ingest"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("ingested 1 events")
