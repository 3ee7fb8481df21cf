"""The real MCP Inspector CLI (tests/node_modules) calls ``consensus`` on ``switchboard serve`` over stdio."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from server.store.database import make_engine
from server.store.models import ConsensusRun, Delegation
from tests.fakes.openai_api import FakeOpenAI, Reply

INSPECTOR = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "mcp-inspector"
SWITCHBOARD = Path(sys.executable).with_name("switchboard")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["a1", "b1", "c1"]) as server:
        yield server


def inspect(home: Path, fake: FakeOpenAI, *args: str) -> dict[str, Any]:
    config = home / "switchboard.toml"
    config.write_text(
        "".join(
            f'[providers.p{m[0]}]\nkind = "openai-compatible"\nbase_url = "{fake.base_url}"\nmodels = ["{m}"]\n'
            for m in ("a1", "b1", "c1")
        ),
        encoding="utf-8",
    )
    env = ["-e", f"SWITCHBOARD_HOME={home}", "-e", f"SWITCHBOARD_CONFIG={config}", "-e", "CLAUDE_CODE_SESSION_ID=s-i"]
    command = [str(INSPECTOR), "--cli", *env, str(SWITCHBOARD), "serve", "--no-ingest", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=home)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_the_inspector_sees_the_consensus_tool_with_its_input_schema(home: Path, fake: FakeOpenAI) -> None:
    listing = inspect(home, fake, "--method", "tools/list")
    [tool] = [tool for tool in listing["tools"] if tool["name"] == "consensus"]
    assert tool["inputSchema"]["required"] == ["question"]
    assert set(tool["inputSchema"]["properties"]["strategy"]["enum"]) == {"fastest", "vote", "judge", "cheapest"}
    assert "outputSchema" not in tool  # the details come as structuredContent; the model reads the text
    assert tool["annotations"]["openWorldHint"] is True


def test_an_inspector_vote_returns_structured_output_and_is_recorded_with_its_members(
    home: Path, fake: FakeOpenAI
) -> None:
    # The dissenter answers first, so all three are heard before the pair makes a quorum.
    fake.script("a1", Reply(text="Final answer: 42", delay_s=0.3))
    fake.script("b1", Reply(text="Final answer: 41"))
    fake.script("c1", Reply(text="Final answer: 42", delay_s=0.3))
    arguments = ["question=6 x 7?", 'models=["pa:a1", "pb:b1", "pc:c1"]', "strategy=vote", "timeout_s=30"]
    call = ["--method", "tools/call", "--tool-name", "consensus"]
    result = inspect(home, fake, *call, *(part for arg in arguments for part in ("--tool-arg", arg)))
    assert result["isError"] is False
    data = result["structuredContent"]
    assert data["final_answer"] == "Final answer: 42"
    assert data["agreement"] == pytest.approx(2 / 3, abs=1e-3)
    assert data["dissent"] == "pb:b1: Final answer: 41"
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    try:
        with Session(engine) as db:
            run = db.exec(select(ConsensusRun)).one()
            members = db.exec(select(Delegation).where(Delegation.consensus_run_id == run.id)).all()
    finally:
        engine.dispose()
    assert (run.id, run.strategy, run.session_id) == (data["run_id"], "vote", "s-i")
    assert sorted((row.model, row.status, row.session_id) for row in members) == [
        ("a1", "ok", "s-i"),
        ("b1", "ok", "s-i"),
        ("c1", "ok", "s-i"),
    ]
