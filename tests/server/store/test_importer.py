"""``switchboard import``: sessions from transcripts on disk, with the cost of record ingest would give them."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.settings import Settings
from server.store.importer import find_transcripts, import_transcripts
from server.store.models import AgentSession, ModelUsage, SubagentRun
from server.team import current_identity
from tests.server.store.spool_support import hook
from tests.server.store.test_transcripts import HAIKU, assistant, cost_state, ingest_session, write_jsonl

REPO = Path(__file__).resolve().parents[3]
SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"


def _user(text: str, at: str) -> dict[str, Any]:
    return {"type": "user", "cwd": "/work/my-app", "sessionId": "s", "timestamp": at, "message": {"content": text}}


def _session(root: Path, session_id: str, total: float, agent: str | None = None) -> Path:
    folder = root / "-work-my-app"
    folder.mkdir(parents=True, exist_ok=True)
    lines: list[dict[str, Any] | str] = [
        _user("hello", "2026-11-20T10:00:00.000Z"),
        assistant(f"{session_id}-m1", f"{session_id}-r1", HAIKU, (1000, 50, 0, 0)),
        assistant(f"{session_id}-m1", f"{session_id}-r1", HAIKU, (1000, 80, 0, 0)),  # same message, final counts
        "{not json",
        cost_state(total),
        {**_user("bye", "2026-11-20T10:05:00.000Z"), "type": "system"},
    ]
    if agent:
        subagents = folder / session_id / "subagents"
        subagents.mkdir(parents=True)
        write_jsonl(subagents / f"agent-{agent}.jsonl", [assistant(f"{agent}-m", f"{agent}-r", HAIKU, (200, 20, 0, 0))])
        (subagents / f"agent-{agent}.meta.json").write_text(json.dumps({"agentType": "Explore"}))
    return write_jsonl(folder / f"{session_id}.jsonl", lines)


def _rows(engine: Engine) -> tuple[list[Any], list[Any], list[Any]]:
    with Session(engine) as db:
        sessions = [s.model_dump() for s in db.exec(select(AgentSession).order_by(AgentSession.session_id))]
        usage = [u.model_dump() for u in db.exec(select(ModelUsage).order_by(ModelUsage.message_id))]
        agents = [a.model_dump() for a in db.exec(select(SubagentRun))]
    return sessions, usage, agents


def test_import_makes_sessions_with_their_cost_of_record_usage_and_subagents(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    _session(root, "s-one", 0.0123, agent="a1")
    _session(root, "s-two", 0.5)
    report = import_transcripts(engine, root)
    assert (report.sessions, report.new_sessions, report.subagents) == (2, 2, 1)
    sessions, usage, agents = _rows(engine)
    assert [(s["session_id"], s["cost_usd"], s["cost_source"]) for s in sessions] == [
        ("s-one", 0.0123, "claude_code"),
        ("s-two", 0.5, "claude_code"),
    ]
    one = sessions[0]
    assert (one["cwd"], one["project"], one["models"]) == ("/work/my-app", "my-app", [HAIKU])
    assert one["started_at"].minute == 0 and one["ended_at"].minute == 5
    assert [(u["message_id"], u["output_tokens"], u["agent_id"]) for u in usage] == [
        ("a1-m", 20, "a1"),
        ("s-one-m1", 80, None),
        ("s-two-m1", 80, None),
    ]
    [agent] = agents
    assert (agent["agent_id"], agent["session_id"], agent["agent_type"]) == ("a1", "s-one", "Explore")
    assert (agent["input_tokens"], agent["output_tokens"]) == (200, 20)


def test_importing_twice_adds_and_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    _session(root, "s-one", 0.0123, agent="a1")
    import_transcripts(engine, root)
    first = _rows(engine)
    report = import_transcripts(engine, root)
    assert report.new_sessions == 0
    assert _rows(engine) == first


def test_import_gives_a_captured_session_the_same_row_ingest_gave_it(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    root = tmp_path / "projects"
    transcript = _session(root, "sess-1", 0.25)
    ingest_session(settings, engine, transcript, hook("UserPromptSubmit", prompt="hi"))
    captured = _rows(engine)
    report = import_transcripts(engine, root)
    assert report.new_sessions == 0
    assert _rows(engine) == captured


def test_import_skips_what_is_not_a_regular_file(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    _session(root, "s-one", 0.1)
    os.mkfifo(root / "-work-my-app" / "s-fifo.jsonl")
    assert import_transcripts(engine, root).sessions == 1


def test_a_fifo_swapped_in_after_the_scan_is_skipped_not_waited_on(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    _session(root, "s-one", 0.1)
    swapped = _session(root, "s-two", 0.2)
    found = list(find_transcripts(root))
    swapped.unlink()
    os.mkfifo(swapped)  # no writer ever opens it: a blocking open would wait for ever
    report = import_transcripts(engine, root, found=found)
    assert report.sessions == 1
    assert [line.split(":")[0] for line in report.skipped] == [str(swapped)]


def test_the_import_command_reports_and_an_empty_projects_dir_is_fine(database_url: str, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    _session(root, "s-one", 0.1)
    done = subprocess.run(
        [str(SWITCHBOARD), "import", "--projects-dir", str(root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"imported 1 session from {root} (1 new, 0 subagent transcripts); running it again adds nothing"
    ]
    assert "1/1 transcripts" in done.stderr
    missing = subprocess.run(
        [str(SWITCHBOARD), "import", "--projects-dir", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "is not a folder" in missing.stderr


def test_import_on_day_one_with_no_projects_folder_says_there_is_nothing_yet_and_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "HOME": str(tmp_path / "fresh")}
    env.pop("CLAUDE_CONFIG_DIR", None)
    done = subprocess.run([str(SWITCHBOARD), "import"], env=env, capture_output=True, text=True, timeout=120)
    projects = tmp_path / "fresh" / ".claude" / "projects"
    assert (done.returncode, done.stderr) == (0, "")
    assert (
        done.stdout
        == f"nothing to import yet: {projects} does not exist (Claude Code writes it on its first session)\n"
    )


def test_import_reads_claude_config_dir_when_set(database_url: str, tmp_path: Path) -> None:
    _session(tmp_path / "cfg" / "projects", "s-one", 0.1)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "cfg"), "HOME": str(tmp_path / "nohome")}
    done = subprocess.run([str(SWITCHBOARD), "import"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "imported 1 session " in done.stdout, done.stderr
    assert json.dumps(str(tmp_path / "cfg" / "projects"))[1:-1] in done.stdout


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.lists(st.binary(max_size=200) | st.text(max_size=200).map(str.encode), max_size=8),
    total=st.floats(min_value=0, max_value=1000, allow_nan=False),
)
def test_any_bytes_around_the_real_lines_neither_stop_import_nor_change_its_numbers(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, junk: list[bytes], total: float
) -> None:
    root = tmp_path_factory.mktemp("projects")
    path = _session(root, f"s-{uuid.uuid4().hex}", total)
    good = path.read_bytes()
    path.write_bytes(b"\n".join(j.replace(b"\n", b" ") for j in junk) + b"\n" + good)
    import_transcripts(engine, root)
    with Session(engine) as db:
        row = db.get(AgentSession, path.stem)
    assert row is not None and row.cost_usd == total and row.cost_source == "claude_code"
    before = _rows(engine)
    import_transcripts(engine, root)
    assert _rows(engine) == before


def test_a_line_of_megabytes_before_the_first_user_line_still_gives_the_sessions_folder(
    engine: Engine, tmp_path: Path
) -> None:
    root = tmp_path / "projects"
    path = _session(root, "s-big", 0.1)
    pasted = json.dumps({"type": "file-history-snapshot", "blob": "z" * 3_000_000}).encode()
    path.write_bytes(pasted + b"\n" + path.read_bytes())
    import_transcripts(engine, root)
    with Session(engine) as db:
        row = db.get(AgentSession, "s-big")
    assert row is not None and (row.cwd, row.cost_usd) == ("/work/my-app", 0.1)


def test_imported_sessions_say_who_ran_them_and_fill_a_captured_row_s_missing_transcript(
    engine: Engine, tmp_path: Path
) -> None:
    root = tmp_path / "projects"
    transcript = _session(root, "s-one", 0.0123, agent="a1")
    _session(root, "s-two", 0.5)
    with Session(engine) as db:  # what hooks record before the transcript path is known
        db.add(AgentSession(session_id="s-one", user="alice", host="laptop"))
        db.add(SubagentRun(session_id="s-one", agent_id="a1", agent_type="Plan"))
        db.commit()
    report = import_transcripts(engine, root)
    assert (report.sessions, report.new_sessions) == (2, 1)
    sessions, _, agents = _rows(engine)
    who = current_identity()
    assert [(s["session_id"], s["user"], s["host"]) for s in sessions] == [
        ("s-one", "alice", "laptop"),
        ("s-two", who.user, who.host),
    ]
    assert sessions[0]["transcript_path"] == str(transcript)
    assert sessions[0]["cost_usd"] == 0.0123
    [agent] = agents
    assert agent["transcript_path"] == str(transcript.with_suffix("") / "subagents" / "agent-a1.jsonl")
    assert (agent["agent_type"], agent["output_tokens"]) == ("Plan", 20)


def _glob_transcripts(root: Path) -> list[tuple[str, Path, dict[str, Path]]]:
    """What :func:`find_transcripts` finds, by the folder layout's definition: ``*/*.jsonl`` regular files, and
    ``<session>/subagents/agent-*.jsonl`` beside each."""
    found: list[tuple[str, Path, dict[str, Path]]] = []
    for path in sorted(root.glob("*/*.jsonl")):
        if path.is_file() and path.name != ".jsonl":
            folder = path.with_name(path.name.removesuffix(".jsonl")) / "subagents"
            agents = sorted(p for p in folder.glob("agent-*.jsonl") if p.is_file())
            found.append((path.name.removesuffix(".jsonl"), path, {p.name[6:-6]: p for p in agents}))
    return found


_names = st.sampled_from(["s1", "s2", ".hidden", "a.b", "agent-x", "agent-", "subagents", "S1", "é"])
_layout = st.lists(
    st.tuples(
        st.sampled_from(["-work-app", "-work-api", ".cache"]),
        _names,
        st.sampled_from([".jsonl", ".json", "", ".jsonl/"]),  # a folder named like a transcript is no transcript
        st.lists(st.tuples(_names, st.sampled_from([".jsonl", ".meta.json", ".jsonl/"])), max_size=3),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(layout=_layout)
def test_find_transcripts_finds_what_the_folder_layout_says_in_name_order(
    layout: list[tuple[str, str, str, list[tuple[str, str]]]],
) -> None:
    root = Path(tempfile.mkdtemp())
    try:
        for folder, name, suffix, agents in layout:
            target = root / folder / (name + suffix.rstrip("/"))
            with suppress(OSError):  # a part the layout already made a file (or a folder) of
                target.parent.mkdir(parents=True, exist_ok=True)
                target.mkdir(exist_ok=True) if suffix.endswith("/") else target.write_text("{}\n")
            for agent, agent_suffix in agents:
                path = root / folder / name / "subagents" / ("agent-" + agent + agent_suffix.rstrip("/"))
                with suppress(OSError):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.mkdir(exist_ok=True) if agent_suffix.endswith("/") else path.write_text("{}\n")
        if layout:
            os.mkfifo(root / layout[0][0] / "fifo.jsonl")
        found = [(t.session_id, t.path, t.subagents) for t in find_transcripts(root)]
        assert found == _glob_transcripts(root)
    finally:
        shutil.rmtree(root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(st.integers(0, 70_000), st.booleans(), st.booleans()),  # padding, has a time, is a JSON object
        min_size=1,
        max_size=6,
    )
)
def test_a_session_ends_at_the_last_time_within_its_last_64_kb(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[int, bool, bool]]
) -> None:
    """Whatever the size of the last lines: the time of the last line that has one, when it ends within the
    file's last 64 KB (read from its end), else none."""
    from server.store import importer

    path = tmp_path_factory.mktemp("tail") / "s.jsonl"
    raws: list[bytes] = []
    for n, (padding, timed, valid) in enumerate(lines):
        record: dict[str, Any] = {"type": "system", "pad": "x" * padding}
        if timed:
            record["timestamp"] = f"2026-11-20T10:{n:02d}:00.000Z"
        raw = json.dumps(record, separators=(",", ":")).encode()
        raws.append(raw if valid else raw[:-1])
    path.write_bytes(b"\n".join(raws) + b"\n")
    data = path.read_bytes()
    window = data[-importer._TAIL_BYTES :]  # pyright: ignore[reportPrivateUsage]
    expected = None
    for raw in reversed(window.split(b"\n")):
        parsed = importer._record(raw)  # pyright: ignore[reportPrivateUsage]
        if (found := importer._time(parsed)) is not None:  # pyright: ignore[reportPrivateUsage]
            expected = found
            break
    assert importer._facts(path).ended_at == expected  # pyright: ignore[reportPrivateUsage]


def test_an_import_puts_its_sqlite_settings_back(engine: Engine, tmp_path: Path) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's page cache and checkpoints")
    with engine.connect() as conn:
        before = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("cache_size", "wal_autocheckpoint")]
    _session(tmp_path / "projects", "s-one", 0.1)
    import_transcripts(engine, tmp_path / "projects")
    with engine.connect() as conn:
        after = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("cache_size", "wal_autocheckpoint")]
    assert after == before == [-2000, 1000]


def test_an_import_puts_the_collectors_thresholds_and_frozen_objects_back_even_when_it_fails(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import freezes what was alive and collects less often while it runs; a process that goes on after it
    (the service, tests) gets its own collector back, after a failed import too."""
    from server.store import importer

    _session(tmp_path / "projects", "s-one", 0.1)
    gc.set_threshold(500, 5, 5)
    try:
        seen: list[tuple[tuple[int, int, int], int]] = []
        real = importer._import_batch  # pyright: ignore[reportPrivateUsage]

        def watched(*args: Any, **kwargs: Any) -> int:
            seen.append((gc.get_threshold(), gc.get_freeze_count()))
            return real(*args, **kwargs)

        monkeypatch.setattr(importer, "_import_batch", watched)
        import_transcripts(engine, tmp_path / "projects")
        assert seen[0][0] == importer.COLLECT_EVERY and seen[0][1] > 0
        assert (gc.get_threshold(), gc.get_freeze_count()) == ((500, 5, 5), 0)

        def broken(*args: Any, **kwargs: Any) -> int:
            raise OSError("disk gone")

        monkeypatch.setattr(importer, "_import_batch", broken)
        with pytest.raises(OSError, match="disk gone"):
            import_transcripts(engine, tmp_path / "projects")
        assert (gc.get_threshold(), gc.get_freeze_count()) == ((500, 5, 5), 0)
    finally:
        gc.set_threshold(700, 10, 10)


def test_a_transcript_whose_name_is_not_utf8_is_skipped_and_said_and_the_rest_imported(
    database_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "projects"
    good = _session(root, "s-one", 0.1, agent="a1")
    folder = os.fsencode(good.parent)
    for name in (b"s-\xff.jsonl", b"s-one/subagents/agent-\xfe.jsonl"):
        shutil.copy(good, os.path.join(folder, name))
    for _ in range(2):  # the second time with nothing new: still said
        done = subprocess.run(
            [str(SWITCHBOARD), "import", "--projects-dir", str(root)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "imported 1 session " in done.stdout
        skipped = [line for line in done.stderr.splitlines() if line.startswith("switchboard import: skipped")]
        assert skipped == [
            f"switchboard import: skipped {os.path.join(folder, name)!r}: its name is not UTF-8"
            for name in (b"s-one/subagents/agent-\xfe.jsonl", b"s-\xff.jsonl")  # found in name order
        ]


def test_an_import_s_wal_is_checkpointed_by_a_thread_after_each_batch_not_in_its_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's checkpoints ran inside the import's commits; a thread runs them between batches instead, on the
    store's own file (its path, with a space in it, made a URI)."""
    from server.store import importer
    from server.store.database import make_engine, migrate

    folder = tmp_path / "a store"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'switchboard.db'}")
    migrate(engine)
    root = tmp_path / "projects"
    for number in range(6):
        _session(root, f"s-{number}", 0.1)
    monkeypatch.setattr(importer, "_BATCH", 2)
    threads: list[str] = []
    autocheckpoints: list[int] = []
    real_checkpoint = importer._Checkpoints._checkpoint  # pyright: ignore[reportPrivateUsage]
    real_batch = importer._import_batch  # pyright: ignore[reportPrivateUsage]

    def checkpoint(self: Any, uri: str) -> None:
        real_checkpoint(self, uri)
        threads.append(threading.current_thread().name)

    def batch(db: Session, *args: Any, **kwargs: Any) -> int:
        autocheckpoints.append(db.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())
        return real_batch(db, *args, **kwargs)

    monkeypatch.setattr(importer._Checkpoints, "_checkpoint", checkpoint)  # pyright: ignore[reportPrivateUsage]
    monkeypatch.setattr(importer, "_import_batch", batch)
    try:
        report = import_transcripts(engine, root)
    finally:
        engine.dispose()
    assert report.sessions == 6 and autocheckpoints == [0, 0, 0]
    assert threads and set(threads) == {"switchboard-import-checkpoint"}
    assert sorted(path.name for path in folder.iterdir()) == ["switchboard.db", "switchboard.db.migrate-lock"]


def test_only_a_sqlite_file_gets_an_import_checkpoint_thread(tmp_path: Path) -> None:
    from server.store.database import make_engine
    from server.store.importer import _Checkpoints  # pyright: ignore[reportPrivateUsage]

    assert _Checkpoints(make_engine("sqlite://")).uri is None
    assert _Checkpoints(make_engine("postgresql+psycopg://user@localhost/db")).uri is None
    uri = _Checkpoints(make_engine(f"sqlite:///{tmp_path / 'a b%.db'}")).uri
    assert uri == f"file:{tmp_path}/a%20b%25.db?mode=rw"
