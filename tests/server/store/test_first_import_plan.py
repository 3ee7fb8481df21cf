"""A first import hands the parsing worker its first batch before loading SQLAlchemy (commands/import.py), from
the folder alone: the reads it hands over are the ones the import then plans, and all of them are taken."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from server.cli import main
from server.store import read_ahead as read_ahead_module
from server.store.database import make_engine
from server.store.nothing_new import holds_no_marks
from server.store.transcript_files import find_transcripts, first_reads
from tests.fakes.projects_folder import list_price, transcripts, usage_lines, write_projects
from tests.server.store.test_import_rereads import assert_totals

RealReadAhead = read_ahead_module.ReadAhead


class Watched(RealReadAhead):
    made: list[Watched] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plans: list[tuple[list[tuple[str, str | None]], int | None]] = []
        Watched.made.append(self)

    def plan(self, cache: Any, reads: Any, ahead: int | None = None) -> None:
        reads = list(reads)
        self.plans.append((reads, ahead))
        super().plan(cache, reads, ahead)


@pytest.fixture
def watched(home: Path, monkeypatch: pytest.MonkeyPatch) -> list[Watched]:
    monkeypatch.delenv("SWITCHBOARD_DATABASE_URL", raising=False)  # the default SQLite store under home
    monkeypatch.setattr(read_ahead_module, "ReadAhead", Watched)
    monkeypatch.setattr(read_ahead_module, "worth_a_worker", lambda: True)
    Watched.made = []
    return Watched.made


def test_a_first_import_hands_the_worker_the_reads_the_import_plans_and_takes_them_all(
    home: Path, tmp_path: Path, watched: list[Watched]
) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=5, turns=8, seed=3)  # subagents among them
    cost, totals = list_price(root)
    assert main(["import", "--quiet", "--projects-dir", str(root)]) == 0
    (read_ahead,) = watched
    (early, early_ahead), (planned, ahead) = read_ahead.plans
    assert early_ahead == read_ahead_module.START_WINDOW and ahead is None
    assert early == planned == first_reads(list(find_transcripts(root)))
    assert any(agent_id for _path, agent_id in early)
    assert read_ahead.taken == len(list(transcripts(root)))
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    try:
        assert_totals(engine, cost, totals, len(usage_lines(root)))
    finally:
        engine.dispose()


def test_an_import_into_a_store_with_read_marks_plans_only_once(
    home: Path, tmp_path: Path, watched: list[Watched]
) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=3, turns=6, seed=4)
    assert main(["import", "--quiet", "--projects-dir", str(root)]) == 0
    first = next(transcripts(root))
    with first.open("ab") as appended:  # something new, so the import runs in full
        appended.write(first.read_bytes().splitlines(keepends=True)[-1])
    assert main(["import", "--quiet", "--projects-dir", str(root)]) == 0
    assert [ahead for _reads, ahead in watched[-1].plans] == [None]


def test_only_a_missing_store_or_one_without_read_marks_is_known_to_hold_none(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    assert holds_no_marks(store)
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE transcript_mark (path TEXT)")
    assert holds_no_marks(store)
    with sqlite3.connect(store) as db:
        db.execute("INSERT INTO transcript_mark VALUES ('a.jsonl')")
    assert not holds_no_marks(store)
    other = tmp_path / "other.db"
    other.write_bytes(b"not a SQLite file at all" * 100)
    assert not holds_no_marks(other)
    assert not holds_no_marks(tmp_path)  # a folder
