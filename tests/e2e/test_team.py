"""A team on one PostgreSQL: two homes ("machines"), each with its own spool and config, run real Claude Code
sessions at the same time; both ingest into one database, exactly once, each row with its person and machine.
Bob keeps ``[team] share_prompts = false``: no text of his prompt is in the database dump. The Team page then
renders in Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from dashboard import build_app
from server.settings import Settings
from server.store.database import make_engine, migrate
from server.store.models import AgentSession, Prompt, RawEvent
from tests.dashboard.conftest import serve, stop
from tests.e2e.claude import claude_env, run_claude, run_switchboard
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, Usage, serve_anthropic
from tests.server.service.launch import stop_service

pytestmark = [pytest.mark.claude, pytest.mark.browser]

PG = os.environ.get("SWITCHBOARD_TEST_PG_URL") or os.environ.get("SWITCHBOARD_DATABASE_URL", "")
BOB_SECRET_PROMPT = "TEAM-BOB the launch codes are tangerine-walrus-42"


def _conversation(marker: str) -> Conversation:
    echo = ToolUse("Bash", {"command": f"echo {marker}", "description": "echo"})
    return Conversation(marker, [Turn(tool_uses=(echo,), usage=Usage(900, 20)), Turn(text="ok", usage=Usage(950, 5))])


@pytest.fixture
def team_database() -> Iterator[str]:
    if not PG.startswith("postgresql"):
        pytest.fail("set SWITCHBOARD_TEST_PG_URL to a PostgreSQL the tests may create databases in (tests/run does)")
    admin = create_engine(make_url(PG), isolation_level="AUTOCOMMIT")
    name = f"sb_team_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _machine(root: Path, user: str, host: str, url: str, share: bool) -> tuple[Path, dict[str, str]]:
    """A home with its own spool and config, hooks installed in its project, pointing at the shared store.

    The config is the machine's user config (``$XDG_CONFIG_HOME/switchboard/config.toml``), which every
    process of that machine reads: the hooks' ingest and the service's periodic one alike. The service starts
    with no session's variables, so a ``[team]`` given only through ``SWITCHBOARD_CONFIG`` would not reach the
    rows it ingests (docs/configuration.md).
    """
    home, project, state = root / user, root / user / "proj", root / user / "state"
    project.mkdir(parents=True)
    config = home / ".config" / "switchboard" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[team]\nuser = "{user}"\nhost = "{host}"\nshare_prompts = {str(share).lower()}\n')
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "SWITCHBOARD_HOME": str(state)}
    env["SWITCHBOARD_DATABASE_URL"] = url
    run_switchboard("install", "--project", str(project), env=env)
    return project, env


def test_two_machines_write_one_postgresql_exactly_once_and_the_team_page_shows_both(
    team_database: str, tmp_path: Path
) -> None:
    first = make_engine(team_database)
    migrate(first)  # one machine upgraded first; the other finds the schema current
    first.dispose()
    machines = {
        "alice": _machine(tmp_path, "alice", "alpha", team_database, share=True),
        "bob": _machine(tmp_path, "bob", "beta", team_database, share=False),
    }
    prompts = {"alice": "TEAM-ALICE please echo", "bob": BOB_SECRET_PROMPT}
    fake = AnthropicFake([_conversation("TEAM-ALICE"), _conversation("TEAM-BOB")])
    results: dict[str, int] = {}
    with serve_anthropic(fake):

        def run(user: str) -> None:
            project, env = machines[user]
            done = run_claude(
                prompts[user], project, claude_env(tmp_path / user, fake, **env), tmp_path / f"run-{user}"
            )
            results[user] = done.returncode

        threads = [threading.Thread(target=run, args=(user,)) for user in machines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    for _project, env in machines.values():
        stop_service(Path(env["SWITCHBOARD_HOME"]))  # the MCP launcher started one per machine
    assert results == {"alice": 0, "bob": 0}
    # SessionEnd started an ingest on each machine; run both again at once: nothing may land twice.
    ingests = [
        subprocess.Popen(
            [str(shutil.which("switchboard") or Path(".venv/bin/switchboard").resolve()), "ingest"],
            env={**os.environ, **env},
        )
        for _project, env in machines.values()
    ]
    assert [p.wait(timeout=120) for p in ingests] == [0, 0]
    engine = make_engine(team_database)
    with Session(engine) as db:
        sessions = db.exec(select(AgentSession)).all()
        assert sorted((s.user, s.host, s.agent) for s in sessions) == [
            ("alice", "alpha", "claude-code"),
            ("bob", "beta", "claude-code"),
        ]
        raw = db.exec(select(RawEvent.event_id)).all()
        assert len(raw) == len(set(raw)) > 4
        texts = {
            s.user: [p.text for p in db.exec(select(Prompt).where(Prompt.session_id == s.session_id))] for s in sessions
        }
    assert texts["alice"] == ["TEAM-ALICE please echo"]
    assert (
        len(texts["bob"]) == 1
        and texts["bob"][0].startswith("[prompt not shared")
        and str(len(BOB_SECRET_PROMPT)) in texts["bob"][0]
    )
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            make_url(team_database).set(drivername="postgresql").render_as_string(hide_password=False),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dump.returncode == 0, dump.stderr
    assert "TEAM-ALICE please echo" in dump.stdout and "tangerine-walrus" not in dump.stdout
    _team_page_in_chromium(engine, tmp_path)
    engine.dispose()


def _team_page_in_chromium(engine: object, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.dashboard.test_browser import ARGS, CHROMIUM

    app = build_app(engine, Settings(home=tmp_path / "viewer"), ingest_interval_s=60, live_interval_s=60)  # pyright: ignore[reportArgumentType]
    url, server, thread = serve(app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page()
            page.goto(f"{url}/")
            assert page.locator("nav a[href='/team']").count() == 1  # two people: the Team page is in the menu
            page.goto(f"{url}/team")
            people = page.locator("#people tbody tr")
            assert people.count() == 2
            assert "alice" in people.nth(0).inner_text() and "alpha" in people.nth(0).inner_text()
            assert "not shared" in people.nth(1).inner_text()
            assert "proj" in page.locator("#per-project").inner_text()
            page.screenshot(path=str(tmp_path / "team.png"), full_page=True)
            browser.close()
    finally:
        stop(server, thread)
