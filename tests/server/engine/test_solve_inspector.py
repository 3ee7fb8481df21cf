"""The real MCP Inspector CLI (tests/node_modules) calls ``solve`` on ``switchboard serve`` over stdio."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from server.engine.solve.models import SolveResult
from server.store.database import make_engine
from server.store.models import Delegation, SolveNode, SolveRun
from tests.fakes.openai_api import FakeOpenAI
from tests.server.engine.solve_support import Quality, check_command, refining

INSPECTOR = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "mcp-inspector"
SWITCHBOARD = Path(sys.executable).with_name("switchboard")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    qualities = {"good": Quality(0.5, 0.25), "weak": Quality(0.25, 0.05)}
    with FakeOpenAI(models=list(qualities), responder=refining(qualities)) as server:
        yield server


def inspect(home: Path, fake: FakeOpenAI, *args: str) -> dict[str, Any]:
    config = home / "switchboard.toml"
    config.write_text(
        f'[providers.pf]\nkind = "openai-compatible"\nbase_url = "{fake.base_url}"\nmodels = ["good", "weak"]\n'
        f"[solve.checks]\nquality = {json.dumps(check_command(home))}\n",
        encoding="utf-8",
    )
    env = ["-e", f"SWITCHBOARD_HOME={home}", "-e", f"SWITCHBOARD_CONFIG={config}", "-e", "CLAUDE_CODE_SESSION_ID=s-i"]
    command = [str(INSPECTOR), "--cli", *env, str(SWITCHBOARD), "serve", "--no-ingest", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=home)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_an_inspector_solve_refines_past_one_shot_and_records_the_tree(home: Path, fake: FakeOpenAI) -> None:
    arguments = ["task=write the parser", "check=quality", "max_calls=20", "target_score=0.75"]
    call = ["--method", "tools/call", "--tool-name", "solve"]
    result = inspect(home, fake, *call, *(part for arg in arguments for part in ("--tool-arg", arg)))
    assert result["isError"] is False, result
    data = SolveResult.model_validate(result["structuredContent"]).model_dump(mode="json")
    assert data["stop_reason"] == "target" and data["best_score"] >= 0.75
    assert data["path"][-1]["action"] == "deeper"
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    try:
        with Session(engine) as db:
            run = db.exec(select(SolveRun)).one()
            nodes = db.exec(select(SolveNode).where(SolveNode.run_id == run.id)).all()
            calls = db.exec(select(Delegation).where(Delegation.request_id == run.id)).all()
    finally:
        engine.dispose()
    assert (run.id, run.session_id, run.check_name, run.status) == (data["run_id"], "s-i", "quality", "ok")
    assert len(nodes) == len(calls) == data["calls"]
    assert {row.solve_node_id for row in calls} == {row.id for row in nodes}
