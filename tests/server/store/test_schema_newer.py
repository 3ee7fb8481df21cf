"""A machine with older code on a store another machine migrated further: a clear message, never a crash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.store.database import SchemaTooNew, migrate

SWITCHBOARD = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "switchboard"
MESSAGE = "the store's schema is newer than this switchboard: upgrade"


def _from_the_future(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))


def test_migrating_a_store_a_newer_switchboard_migrated_refuses_with_a_message(engine: Engine) -> None:
    _from_the_future(engine)
    with pytest.raises(SchemaTooNew, match=MESSAGE):
        migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "9999"  # untouched


def test_commands_and_doctor_say_upgrade_instead_of_crashing(engine: Engine) -> None:
    _from_the_future(engine)
    for args in (["stats", "--no-ingest"], ["ingest"], ["import", "--projects-dir", str(Path(__file__).parent)]):
        done = subprocess.run([str(SWITCHBOARD), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and MESSAGE in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    doctor = subprocess.run([str(SWITCHBOARD), "doctor"], capture_output=True, text=True, timeout=120)
    assert MESSAGE in doctor.stdout + doctor.stderr and "Traceback" not in doctor.stderr
