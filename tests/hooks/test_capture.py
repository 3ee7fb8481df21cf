"""hooks/capture.sh: one durable spool file per event, silent, always exit 0, under plain POSIX sh."""

from __future__ import annotations

import errno
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.settings import Settings
from server.store.ingest import ingest_spool
from server.store.spool import Spool
from tests.server.store.spool_support import CAPTURE, raw_event_count

SH = "/bin/dash" if Path("/bin/dash").exists() else "/bin/sh"  # the strictest POSIX shell at hand


def capture(stdin: bytes, env: dict[str, str], *args: str, timeout_s: float = 10) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [SH, str(CAPTURE), *args], input=stdin, env=env, capture_output=True, timeout=timeout_s, check=False
    )


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "user"), **extra}


def spooled(home: Path) -> list[Path]:
    new = home / "spool" / "new"
    return sorted(new.iterdir()) if new.exists() else []


def test_payload_lands_in_spool_new_byte_for_byte_and_silently(tmp_path: Path) -> None:
    home = tmp_path / "state"
    payload = json.dumps({"hook_event_name": "Stop", "session_id": "s", "text": "héllo\n"}).encode()
    before = time.time()
    done = capture(payload, base_env(tmp_path, SWITCHBOARD_HOME=str(home)))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    [event] = spooled(home)
    assert event.read_bytes() == payload
    assert before - 1 <= event.stat().st_mtime <= time.time() + 1
    assert list((home / "spool" / "tmp").iterdir()) == []
    assert event.stat().st_mode & 0o077 == 0  # prompts are private to the user


def test_a_home_with_spaces_and_quotes_works_like_macos_application_support(tmp_path: Path) -> None:
    home = tmp_path / "Library" / "Application Support" / 'it\'s "here"'
    done = capture(b'{"x": 1}', base_env(tmp_path, SWITCHBOARD_HOME=str(home)))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert [p.read_bytes() for p in spooled(home)] == [b'{"x": 1}']


def test_each_event_gets_its_own_file_name(tmp_path: Path) -> None:
    home = tmp_path / "state"
    for _ in range(5):
        capture(b"{}", base_env(tmp_path, SWITCHBOARD_HOME=str(home)))
    assert len({p.name for p in spooled(home)}) == 5


def test_home_falls_back_to_plugin_data_then_the_same_default_as_python(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin-data"
    capture(b"{}", base_env(tmp_path, CLAUDE_PLUGIN_DATA=str(plugin)))
    assert len(spooled(plugin)) == 1
    xdg = base_env(tmp_path, XDG_DATA_HOME=str(tmp_path / "xdg"))
    no_xdg = base_env(tmp_path)
    for env in (xdg, no_xdg):
        capture(b"{}", env)
        python_home = subprocess.run(
            [sys.executable, "-c", "from server.settings import Settings; print(Settings().home)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=CAPTURE.parents[1],
        ).stdout.strip()
        assert len(spooled(Path(python_home))) == 1, python_home


@pytest.mark.parametrize(
    "stdin",
    [b"", b"not json {", b'{"truncated": "', bytes(range(256)) * 64, b"x" * (10 * 1024 * 1024)],
    ids=["empty", "not-json", "truncated", "binary", "10MB"],
)
def test_any_stdin_is_spooled_with_exit_0_and_no_output(tmp_path: Path, stdin: bytes) -> None:
    home = tmp_path / "state"
    done = capture(stdin, base_env(tmp_path, SWITCHBOARD_HOME=str(home)))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    [event] = spooled(home)
    assert event.read_bytes() == stdin


def test_an_unwritable_spool_still_exits_0_silently(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a home below a regular file cannot be created, not even by root
    done = capture(b'{"a": 1}', base_env(tmp_path, SWITCHBOARD_HOME=str(blocker / "home")), "/bin/false")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def _open_writer(fifo: Path, timeout_s: float) -> int:
    """Open ``fifo`` for writing once a reader has it open; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: nobody reads it yet
            assert exc.errno == errno.ENXIO and time.monotonic() < deadline, "the detached command never started"
            time.sleep(0.01)


def _read_lines(reader: int, count: int, timeout_s: float) -> list[str]:
    data = b""
    deadline = time.monotonic() + timeout_s
    while data.count(b"\n") < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"the detached command did not report back within {timeout_s} s"
        select.select([reader], [], [], remaining)
        try:
            data += os.read(reader, 4096)
        except BlockingIOError:
            continue
    return data.decode().split()


def test_the_command_argument_starts_detached_after_the_event_is_spooled(tmp_path: Path) -> None:
    home = tmp_path / "state"
    gate, report = tmp_path / "gate", tmp_path / "report"
    os.mkfifo(gate)
    os.mkfifo(report)
    # The command blocks on `gate` until the test writes to it: capture.sh must have returned before then.
    script = f'read go < "{gate}"; {{ ls "{home}/spool/new" | wc -l; ps -o sid= -p $$; }} > "{report}"'
    done = capture(b"{}", base_env(tmp_path, SWITCHBOARD_HOME=str(home)), "/bin/sh", "-c", script)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    reader = os.open(report, os.O_RDONLY | os.O_NONBLOCK)
    keeper = os.open(report, os.O_WRONLY)  # a writer of our own: no EOF until the command writes
    try:
        go = _open_writer(gate, 10)
        os.write(go, b"go\n")
        os.close(go)
        count, sid = _read_lines(reader, 2, 10)
    finally:
        os.close(keeper)
        os.close(reader)
    assert count == "1"  # the event was in spool/new before the command started
    assert int(sid) != os.getsid(0)  # its own session: it outlives Claude Code's process group


def test_200_concurrent_captures_become_exactly_200_raw_events(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    env = base_env(tmp_path, SWITCHBOARD_HOME=str(settings.home))
    procs = [
        subprocess.Popen(
            [SH, str(CAPTURE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for _ in range(200)
    ]
    # Every process is running before any has its payload: the writes race for real.
    for n, proc in enumerate(procs):
        payload = {
            "hook_event_name": "PreToolUse",
            "session_id": f"s{n % 7}",
            "tool_use_id": f"t{n}",
            "tool_name": "Bash",
        }
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(payload).encode())
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=60) == 0
        assert proc.stdout is not None and proc.stderr is not None
        assert (proc.stdout.read(), proc.stderr.read()) == (b"", b"")
        proc.stdout.close()
        proc.stderr.close()
    assert len(spooled(settings.home)) == 200
    report = ingest_spool(engine, Spool(settings.spool_dir))
    assert (report.ingested, report.quarantined, report.remaining, report.error) == (200, 0, 0, None)
    assert raw_event_count(engine) == 200
