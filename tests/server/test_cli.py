"""The ``switchboard`` command line reads in workflow order and answers a bare call with its help."""

from __future__ import annotations

import importlib
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from server.cli import COMMANDS, command_help, main


def test_no_arguments_prints_the_help_with_commands_in_workflow_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: switchboard")
    listed = re.findall(r"^    (\w+)\s", out, flags=re.MULTILINE)
    assert listed[:6] == ["init", "install", "import", "dashboard", "stats", "doctor"]
    assert {"statusline", "export", "service", "uninstall", "ingest", "serve"} <= set(listed)


def test_the_help_lists_every_command_with_the_help_line_its_module_holds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name in COMMANDS:
        module = importlib.import_module(f"server.commands.{name}")
        assert command_help(name) == module.HELP
        assert f" {name} {module.HELP} " in f"{listing} ", name


def test_a_commands_own_help_opens_with_its_modules_line(capsys: pytest.CaptureFixture[str]) -> None:
    from server.commands import relearn

    with pytest.raises(SystemExit):
        main(["relearn", "--help"])
    assert relearn.HELP in " ".join(capsys.readouterr().out.split())


def test_the_words_module_gives_the_right_plural() -> None:
    from server.words import plural

    assert [plural(n, "session") for n in (0, 1, 2)] == ["0 sessions", "1 session", "2 sessions"]
    assert plural(1, "provider") == "1 provider"


_DROPPED_STORE = """
import sqlite3, sys
from server import cli

def command():
    # A command that drops an open store in a cycle and buffered text in a file, as careless code can.
    conn = sqlite3.connect(sys.argv[1])
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    holder = {"conn": conn}
    holder["self"] = holder
    print("to stdout", end="")
    return 3

cli.main = command
cli.entry()
"""


def test_the_command_as_a_process_keeps_its_exit_code_output_and_closes_what_it_dropped(tmp_path: Path) -> None:
    """``entry`` freezes what is alive at exit out of the collector (a faster teardown): a store a command dropped
    in a cycle is still closed first, so SQLite folds its log into the file and removes it."""
    store = tmp_path / "dropped.db"
    done = subprocess.run(
        [sys.executable, "-c", _DROPPED_STORE, str(store)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (3, "to stdout", "")
    assert not Path(f"{store}-wal").exists(), "the dropped connection was never closed"
    assert sqlite3.connect(store).execute("SELECT x FROM t").fetchall() == [(1,)]
