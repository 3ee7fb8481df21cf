"""SWITCHBOARD_HOME and everything created under it is 0700/0600, whichever command creates it first."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.private import private_dirs, private_file
from server.store.database import make_engine, migrate
from tests.dashboard.test_command import Run
from tests.server.store.spool_support import CAPTURE, hook

SH = "/bin/dash" if Path("/bin/dash").exists() else "/bin/sh"
LOOSE_UMASK = 'umask 022 && exec "$@"'  # the usual umask: without explicit modes, files come out 0644


def loose_modes(home: Path) -> dict[str, str]:
    """Everything under ``home`` (itself included) that group or others can reach, with its mode."""
    found: dict[str, str] = {}
    for path in [home, *home.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        expected = 0o700 if stat.S_ISDIR(mode) else 0o600
        if stat.S_IMODE(mode) & ~expected:
            found[str(path.relative_to(home.parent))] = oct(stat.S_IMODE(mode))
    return found


def fresh_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "data" / "switchboard"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") and k != "CLAUDE_PLUGIN_DATA"}
    env.update(SWITCHBOARD_HOME=str(home), XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    return home, env


def spool_one(home: Path, env: dict[str, str]) -> None:
    payload = json.dumps(hook("UserPromptSubmit", prompt="password: hunter2hunter2")).encode()
    subprocess.run([SH, "-c", LOOSE_UMASK, "sh", SH, str(CAPTURE)], input=payload, env=env, check=True, timeout=30)


def test_switchboard_dashboard_first_leaves_the_home_and_database_private(tmp_path: Path) -> None:
    home, env = fresh_env(tmp_path)
    run = Run(("--port", "0", "--no-ingest"), env)
    try:
        run.url()  # the store is open (migrated) before the address is printed
        assert (home / "switchboard.db").exists()
        assert loose_modes(home) == {}
    finally:
        run.stop()
    assert loose_modes(home) == {}


@pytest.mark.parametrize("command", [["ingest"], ["stats"]], ids=["ingest", "stats"])
def test_a_cli_command_first_leaves_everything_private(tmp_path: Path, command: list[str]) -> None:
    home, env = fresh_env(tmp_path)
    argv = [SH, "-c", LOOSE_UMASK, "sh", sys.executable, "-m", "server", *command]
    subprocess.run(argv, env=env, check=True, timeout=120, capture_output=True)
    spool_one(home, env)
    subprocess.run([*argv[:4], sys.executable, "-m", "server", "ingest"], env=env, check=True, timeout=120)
    assert (home / "switchboard.db").exists()
    assert loose_modes(home) == {}


def test_the_capture_hook_first_makes_a_private_home_and_spool(tmp_path: Path) -> None:
    home, env = fresh_env(tmp_path)
    spool_one(home, env)
    assert len(list((home / "spool" / "new").iterdir())) == 1
    assert loose_modes(home) == {}


def test_wal_and_shm_files_are_private_once_written(tmp_path: Path) -> None:
    database = tmp_path / "store" / "switchboard.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    try:
        with engine.connect():  # open: -wal and -shm exist now
            assert database.with_name("switchboard.db-wal").exists()
            assert loose_modes(database.parent) == {}
    finally:
        engine.dispose()


def test_a_database_an_earlier_version_left_readable_is_tightened(tmp_path: Path) -> None:
    database = tmp_path / "switchboard.db"
    database.touch()
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_a_quarantined_event_and_its_reason_are_private(tmp_path: Path) -> None:
    home, env = fresh_env(tmp_path)
    subprocess.run([SH, "-c", LOOSE_UMASK, "sh", SH, str(CAPTURE)], input=b"not json", env=env, check=True)
    subprocess.run([SH, "-c", LOOSE_UMASK, "sh", sys.executable, "-m", "server", "ingest", "-q"], env=env, timeout=120)
    assert len(list((home / "spool" / "quarantine").iterdir())) == 2
    assert loose_modes(home) == {}


def test_private_helpers_leave_existing_folders_and_foreign_files_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    inner = private_dirs(shared / "a" / "b")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # existing: not ours to change
    assert stat.S_IMODE(inner.stat().st_mode) == stat.S_IMODE((shared / "a").stat().st_mode) == 0o700
    target = tmp_path / "target"
    target.write_text("x")
    target.chmod(0o644)
    (tmp_path / "link").symlink_to(target)
    private_file(tmp_path / "link")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # a symlink is never followed


def test_install_first_keeps_its_records_and_backups_private(tmp_path: Path) -> None:
    home, env = fresh_env(tmp_path)
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"theme": "dark"}\n')
    settings.chmod(0o644)  # a user's own file, readable as they chose: its backup must not be readable by others
    argv = [SH, "-c", LOOSE_UMASK, "sh", sys.executable, "-m", "server", "install", "--user"]
    subprocess.run(argv, env=env, check=True, timeout=120, capture_output=True)
    assert list((home / "backups").rglob("*settings.json"))
    assert stat.S_IMODE(settings.stat().st_mode) == 0o644  # the user's file keeps its mode
    assert loose_modes(home) == {}


def test_a_home_an_earlier_version_left_open_is_private_after_the_next_ingest(tmp_path: Path) -> None:
    home, env = fresh_env(tmp_path)
    for folder in (home, home / "logs"):
        folder.mkdir(parents=True)
        folder.chmod(0o755)
    (home / "logs" / "ingest.log").write_text("old\n")
    (home / "logs" / "ingest.log").chmod(0o644)
    subprocess.run([SH, "-c", LOOSE_UMASK, "sh", sys.executable, "-m", "server", "ingest", "-q"], env=env, timeout=120)
    assert loose_modes(home) == {}


def test_the_recorders_spill_folders_are_private_even_as_the_first_thing_made(tmp_path: Path) -> None:
    from server.store.record_batches import spill  # imported here: the store package loads SQLAlchemy

    home = tmp_path / "fresh" / "switchboard"
    spill(home / "records", [])
    assert (home / "records" / "new").is_dir()
    assert loose_modes(home) == {}
