"""The real MCP Inspector CLI (tests/node_modules) drives ``switchboard serve`` over stdio against the fake API."""

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
from server.store.models import Delegation
from tests.fakes.openai_api import FakeOpenAI, Reply

INSPECTOR = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "mcp-inspector"
SWITCHBOARD = Path(sys.executable).with_name("switchboard")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a", "model-b"], api_key="sk-inspector") as server:
        yield server


def inspect(home: Path, config: Path, *args: str, tool_error: bool = False) -> dict[str, Any]:
    """The Inspector CLI's JSON answer; with ``tool_error`` the call must fail (the CLI then exits non-zero)."""
    env_args = [
        "-e",
        f"SWITCHBOARD_HOME={home}",
        "-e",
        f"SWITCHBOARD_CONFIG={config}",
        "-e",
        "ACME_KEY=sk-inspector",
        "-e",
        "CLAUDE_CODE_SESSION_ID=inspector-session",
    ]
    command = [str(INSPECTOR), "--cli", *env_args, str(SWITCHBOARD), "serve", "--no-ingest", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=home)
    assert (done.returncode != 0) == tool_error, done.stdout + done.stderr
    # On a tool error the CLI prints the result, then a line of its own.
    answer, _end = json.JSONDecoder().raw_decode(done.stdout.lstrip())
    return answer


def write_config(tmp_path: Path, fake: FakeOpenAI) -> Path:
    config = tmp_path / "switchboard.toml"
    config.write_text(
        f"""
[providers.acme]
kind = "openai-compatible"
base_url = "{fake.base_url}"
api_key_env = "ACME_KEY"
models = ["model-a", "model-b"]

[providers.acme.prices]
"model-a" = {{ input_per_mtok = 1.0, output_per_mtok = 2.0 }}

[routing]
default = ["acme:model-a", "acme:model-b"]
"""
    )
    return config


def test_inspector_lists_the_tools_with_their_annotations(home: Path, tmp_path: Path, fake: FakeOpenAI) -> None:
    listing = inspect(home, write_config(tmp_path, fake), "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listing["tools"]}
    assert {"delegate", "get_output", "providers", "stats"} <= set(tools)
    assert tools["delegate"]["annotations"]["openWorldHint"] is True
    assert "task" in tools["delegate"]["inputSchema"]["required"]
    # task_type is an enum a model can read; the result's details are not a schema the model must carry.
    assert set(tools["delegate"]["inputSchema"]["properties"]["task_type"]["anyOf"][0]["enum"]) == {
        "code_fix",
        "ui",
        "ai_feature",
        "research",
        "cost_sensitive",
        "general",
    }
    assert "outputSchema" not in tools["delegate"]


def test_inspector_delegate_call_falls_back_and_is_recorded(home: Path, tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.script("model-a", Reply.error(500))
    result = inspect(
        home,
        write_config(tmp_path, fake),
        *("--method", "tools/call", "--tool-name", "delegate", "--tool-arg", "task=say hi"),
    )
    assert result["isError"] is False
    [text] = result["content"]
    assert text["text"].startswith("echo: say hi\n\n[acme:model-b · ")
    assert "fell back from acme:model-a: server_error" in text["text"]
    assert result["structuredContent"]["answer"] == "echo: say hi"
    assert result["structuredContent"]["model"] == "acme:model-b"
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    with Session(engine) as db:
        rows = db.exec(select(Delegation).order_by(Delegation.attempt)).all()  # pyright: ignore[reportArgumentType]
        statuses = [(r.model, r.status, r.session_id) for r in rows]
    engine.dispose()
    assert statuses == [("model-a", "server_error", "inspector-session"), ("model-b", "ok", "inspector-session")]


def test_inspector_sees_an_unconfigured_model_refused_with_the_valid_ids(
    home: Path, tmp_path: Path, fake: FakeOpenAI
) -> None:
    args = ("--tool-arg", "task=say hi", "--tool-arg", "model=groq:llama-3.3-70b")
    call = ("--method", "tools/call", "--tool-name", "delegate", *args)
    result = inspect(home, write_config(tmp_path, fake), *call, tool_error=True)
    assert result["isError"] is True
    [text] = result["content"]
    assert "no provider 'groq' is configured" in text["text"]
    assert "valid ids are acme:model-a, acme:model-b" in text["text"]
    assert fake.requests == []


def test_inspector_reaches_stats_while_the_config_is_broken(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text('[provider.acme]\nbase_url = "http://127.0.0.1:9/v1"\n')
    call = ("--method", "tools/call", "--tool-name", "delegate", "--tool-arg", "task=hi")
    delegate = inspect(home, config, *call, tool_error=True)
    stats = inspect(home, config, "--method", "tools/call", "--tool-name", "stats")
    assert delegate["isError"] is True and "did you mean [providers.acme]?" in delegate["content"][0]["text"]
    assert stats["isError"] is False
