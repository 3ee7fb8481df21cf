"""An import with nothing new answers with ``sqlite3`` alone, says what the full import says, and leaves every doubt
to the full import.

Each import here is the real command in a subprocess, on a SQLite store of its own (also when the suite runs on
PostgreSQL: the path is SQLite's).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from server.settings import Settings
from server.store import nothing_new
from server.store.agents import READERS
from server.store.nothing_new import default_store_file, unchanged_import
from server.store.transcript_files import TranscriptFile
from tests.server.store.test_importer import SWITCHBOARD, _session  # pyright: ignore[reportPrivateUsage]

_ROLLOUT = "rollout-2026-12-05T08-00-00-0a2456c-ffc8-7fa3-b2e5-3bcc8bbc9525.jsonl"
_META = '{"timestamp":"2026-12-05T08:00:00Z","type":"session_meta","payload":{"id":"c1","cli_version":"0.171.0"}}\n'


class Folder:
    """A projects folder with two sessions (one with a subagent), a Codex home with one rollout, and a store."""

    def __init__(self, tmp: Path) -> None:
        self.state = tmp / "state"
        self.projects = tmp / "claude" / "projects"
        self.codex = tmp / "codex"
        self.main = _session(self.projects, "s-one", 0.1, agent="a1")
        self.other = _session(self.projects, "s-two", 0.2)
        self.subagent = self.main.parent / "s-one" / "subagents" / "agent-a1.jsonl"
        self.rollout = self.codex / "sessions" / "2026" / _ROLLOUT
        self.rollout.parent.mkdir(parents=True)
        self.rollout.write_text(_META)
        self.env = {
            **{k: v for k, v in os.environ.items() if k.lower() != "switchboard_database_url"},
            "SWITCHBOARD_HOME": str(self.state),
            "CODEX_HOME": str(self.codex),
            "HOME": str(tmp / "home"),  # no ~/.gemini
            "XDG_CONFIG_HOME": str(tmp / "xdg"),
        }

    @property
    def store(self) -> Path:
        return self.state / "switchboard.db"

    def run(self, *flags: str) -> subprocess.CompletedProcess[str]:
        command = [str(SWITCHBOARD.with_name("python")), "-X", "importtime", str(SWITCHBOARD), "import", *flags]
        done = subprocess.run(
            [*command, "--projects-dir", str(self.projects)], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done

    def answer(self) -> object:
        return unchanged_import(self.store, self.projects, [(READERS["codex"], self.codex)])


def _loaded_sqlalchemy(done: subprocess.CompletedProcess[str]) -> bool:
    return any(line.split("|")[-1].strip() == "sqlalchemy" for line in done.stderr.splitlines())


def _said(done: subprocess.CompletedProcess[str]) -> tuple[str, list[str]]:
    """stdout, and stderr without ``-X importtime``'s lines."""
    return done.stdout, [line for line in done.stderr.splitlines() if not line.startswith("import time:")]


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    return Folder(tmp_path)


def test_a_second_import_with_nothing_new_says_what_the_import_says_without_loading_sqlalchemy(folder: Folder) -> None:
    first = folder.run()
    assert _loaded_sqlalchemy(first)
    assert folder.answer() is not None
    second = folder.run()
    assert not _loaded_sqlalchemy(second)
    expected = (
        f"imported 2 sessions from {folder.projects} (0 new, 0 subagent transcripts); running it again adds nothing\n"
        f"imported 0 codex sessions from {folder.codex} (0 new, 1 files unchanged)\n"
    )
    assert _said(second) == (expected, ["  2/2 transcripts"])
    # The full import, made to run by a log it must read again, says the same of the sessions that did not change.
    with sqlite3.connect(folder.store) as db:
        db.execute("UPDATE agent_log SET size = size + 1")
    full = folder.run()
    assert _loaded_sqlalchemy(full)
    assert _said(full)[1] == ["  2/2 transcripts"]
    assert full.stdout.splitlines()[0] == expected.splitlines()[0]
    assert _said(folder.run("--quiet")) == ("", [])


def _append(folder: Folder) -> None:
    with folder.main.open("a") as handle:
        handle.write('{"type":"system","timestamp":"2026-11-20T10:06:00.000Z"}\n')


def _touch(folder: Folder) -> None:
    later = time.time() + 5
    os.utime(folder.subagent, (later, later))


def _replace(folder: Folder) -> None:
    copy = folder.other.with_suffix(".tmp")
    copy.write_bytes(folder.other.read_bytes())
    copy.replace(folder.other)  # same bytes, same size: another inode


def _new_session(folder: Folder) -> None:
    _session(folder.projects, "s-three", 0.3)


def _new_subagent(folder: Folder) -> None:
    extra = folder.subagent.with_name("agent-a2.jsonl")
    extra.write_bytes(folder.subagent.read_bytes())


def _mark_lost(folder: Folder) -> None:
    with sqlite3.connect(folder.store) as db:
        db.execute("DELETE FROM transcript_mark WHERE path = ?", (str(folder.other),))


def _marks_all_lost(folder: Folder) -> None:
    with sqlite3.connect(folder.store) as db:
        db.execute("DELETE FROM transcript_mark")


def _row_without_path(folder: Folder) -> None:
    with sqlite3.connect(folder.store) as db:
        db.execute("UPDATE session SET transcript_path = NULL WHERE session_id = 's-two'")


def _older_schema(folder: Folder) -> None:
    with sqlite3.connect(folder.store) as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")


def _rollout_grew(folder: Folder) -> None:
    with folder.rollout.open("a") as handle:
        handle.write(_META)


def _new_rollout(folder: Folder) -> None:
    folder.rollout.with_name(_ROLLOUT.replace("0a2456c", "0b2456c")).write_text(_META)


def _rollout_not_utf8(folder: Folder) -> None:
    Path(os.fsdecode(os.fsencode(folder.rollout.parent) + b"/rollout-\xff.jsonl")).write_text(_META)


def _transcript_not_utf8(folder: Folder) -> None:
    Path(os.fsdecode(os.fsencode(folder.main.parent) + b"/s-\xff.jsonl")).write_bytes(folder.other.read_bytes())


def _not_a_store(folder: Folder) -> None:
    folder.store.unlink()
    folder.store.write_bytes(b"not a database" * 100)


CHANGES: dict[str, Callable[[Folder], None]] = {
    "a transcript appended to": _append,
    "a subagent transcript touched": _touch,
    "a transcript replaced by the same bytes": _replace,
    "a new session": _new_session,
    "a new subagent transcript": _new_subagent,
    "a read mark lost": _mark_lost,
    "every read mark lost": _marks_all_lost,
    "a session row without its transcript": _row_without_path,
    "a store at an older schema": _older_schema,
    "a Codex rollout appended to": _rollout_grew,
    "a new Codex rollout": _new_rollout,
    "a file that is no SQLite store": _not_a_store,
    "a Codex rollout whose name is not UTF-8": _rollout_not_utf8,
    "a transcript whose name is not UTF-8": _transcript_not_utf8,
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_any_change_leaves_the_answer_to_the_full_import(folder: Folder, change: str) -> None:
    folder.run()
    assert folder.answer() is not None
    CHANGES[change](folder)
    assert folder.answer() is None


def test_a_store_without_read_marks_is_left_to_the_import_after_one_session_found(
    folder: Folder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing read yet and a session to read: the answer needs no walk of the whole folder (the import walks it)."""
    folder.run()
    _marks_all_lost(folder)
    found: list[str] = []
    real = nothing_new.find_transcripts

    def counted(*args: Any, **kwargs: Any) -> Iterator[TranscriptFile]:
        for item in real(*args, **kwargs):
            found.append(item.session_id)
            yield item

    monkeypatch.setattr(nothing_new, "find_transcripts", counted)
    assert folder.answer() is None
    assert found == ["s-one"]


def test_an_appended_transcript_is_read_by_the_import_that_follows(folder: Folder) -> None:
    folder.run()
    _append(folder)
    with folder.main.open("a") as handle:
        handle.write(folder.main.read_text().splitlines()[1].replace("s-one-m1", "s-one-m9") + "\n")
    done = folder.run()
    assert _loaded_sqlalchemy(done)
    with sqlite3.connect(folder.store) as db:
        assert db.execute("SELECT count(*) FROM model_usage WHERE message_id = 's-one-m9'").fetchone() == (1,)
    assert not _loaded_sqlalchemy(folder.run())


def test_a_store_another_process_is_writing_is_still_answered(folder: Folder) -> None:
    folder.run()
    writer = sqlite3.connect(folder.store, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE session SET cwd = cwd")
        started = time.monotonic()
        done = folder.run()
        assert time.monotonic() - started < 30
        assert not _loaded_sqlalchemy(done)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"SWITCHBOARD_HOME": "/srv/sb"},
        {"switchboard_home": "/srv/lower"},
        {"CLAUDE_PLUGIN_DATA": "/plugin/data"},
        {"XDG_DATA_HOME": "/xdg/data"},
        {"SWITCHBOARD_DATABASE_URL": "sqlite:////abs/store.db"},
        {"SWITCHBOARD_DATABASE_URL": "sqlite:///relative/store.db"},
        {"SWITCHBOARD_DATABASE_URL": "", "SWITCHBOARD_HOME": "/srv/empty-url"},
    ],
)
def test_the_store_file_is_the_one_the_settings_open(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in list(os.environ):
        if name.lower() in {"switchboard_home", "switchboard_database_url", "claude_plugin_data", "xdg_data_home"}:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = default_store_file()
    assert store is not None
    assert str(store) == make_url(Settings().resolved_database_url).database


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://u@h/db", "sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=ro&uri=true"]
)
def test_another_database_is_left_to_the_full_import(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    assert default_store_file() is None


@settings(max_examples=200, deadline=None)
@given(path=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40))
def test_a_sqlite_url_s_file_is_read_as_sqlalchemy_reads_it_or_not_at_all(path: str) -> None:
    url = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWITCHBOARD_DATABASE_URL", url)
        store = default_store_file()
    if store is not None:
        assert store == Path(str(make_url(url).database))


def test_a_codex_rollout_whose_name_is_not_utf8_is_said_by_the_import_and_the_rest_imported(folder: Folder) -> None:
    _rollout_not_utf8(folder)
    bad = os.fsencode(folder.rollout.parent) + b"/rollout-\xff.jsonl"
    for _ in range(2):
        done = folder.run()
        assert "imported 2 sessions from" in done.stdout
        assert f"switchboard import: skipped {bad!r}: its name is not UTF-8" in done.stderr
