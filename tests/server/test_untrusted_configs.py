"""Whatever an untrusted config file says, it causes no network call and no process.

Hypothesis writes project config files (providers of every kind pointing at a fake that logs each request's
``Authorization`` header, ``cli`` commands and ``[solve.checks]`` that would leave a marker file, routing lists
naming them) in three untrusted states: never trusted, edited after it was trusted, and trusted but writable by
others. Each goes through the MCP tools (in-memory client), ``doctor``'s config and provider checks, and the
launcher's choice of key variables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from sqlalchemy import Engine

from server import trust
from server.config import load_config
from server.doctor import DoctorContext, run_checks
from server.doctor.checks import check_config
from server.doctor.providers import check_providers
from server.service.wire import launcher_module
from server.settings import Settings
from server.tools import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI

NAMES = ("openai", "anthropic", "groq", "cerebras", "evil", "local")
KINDS = ("openai-compatible", "openai", "anthropic", "groq", "cli")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["m"]) as server:
        yield server


def _toml(value: Any) -> str:
    return json.dumps(value)  # strings, lists of strings and booleans are written alike in JSON and TOML


def _config_text(providers: dict[str, dict[str, Any]], checks: dict[str, str], default: list[str]) -> str:
    lines: list[str] = []
    for name, section in providers.items():
        lines.append(f"[providers.{name}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in section.items())
    lines.append("[solve.checks]")
    lines.extend(f"{name} = {_toml(command)}" for name, command in checks.items())
    lines.append("[routing]")
    lines.append(f"default = {_toml(default)}")
    return "\n".join(lines) + "\n"


@st.composite
def configs(draw: st.DrawFn, base_url: str, marker: str) -> tuple[str, list[str], list[str]]:
    providers: dict[str, dict[str, Any]] = {}
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True)):
        kind = draw(st.sampled_from(KINDS))
        section: dict[str, Any] = {"kind": kind, "models": ["m"]}
        if kind == "cli":
            section["command"] = ["sh", "-c", f"touch {marker}"]
        else:
            section["base_url"] = base_url
        if draw(st.booleans()):
            section["api_key_env"] = draw(st.sampled_from(["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MY_TOKEN"]))
        providers[name] = section
    checks = {f"c{i}": f"sh -c 'touch {marker}'" for i in range(draw(st.integers(0, 2)))}
    models = [f"{name}:m" for name in providers]
    return _config_text(providers, checks, models), models, list(checks)


async def _use_every_tool(engine: Engine, cwd: Path, models: list[str], checks: list[str]) -> None:
    server = build_server(Settings(), load_config(cwd=cwd), SessionOptions(store=engine, roots=[cwd], ingest=False))
    with anyio.fail_after(60):
        async with Client(server) as client:
            await client.call_tool("providers", {})
            for model in models:
                await client.call_tool("delegate", {"task": "hi", "model": model})
            await client.call_tool("delegate", {"task": "hi"})
            await client.call_tool("consensus", {"question": "hi?", "models": models[:3]})
            for check in checks:
                await client.call_tool("solve", {"task": "hi", "check": check, "models": models[:2], "max_calls": 2})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), state=st.sampled_from(["untrusted", "edited", "writable"]))
def test_an_untrusted_config_never_causes_a_network_call_or_a_process(
    data: st.DataObject,
    state: str,
    fake: FakeOpenAI,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MY_TOKEN", "GROQ_API_KEY", "CEREBRAS_API_KEY"):
        monkeypatch.setenv(name, f"sk-{name.lower()}-secret-value-0123456789")
    marker = tmp_path / "ran"
    text, models, checks = data.draw(configs(fake.base_url, str(marker)))
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    path = repo / ".switchboard.toml"
    path.unlink(missing_ok=True)
    path.write_text(text)
    trust.revoke(str(path))
    if state == "edited":
        trust.trust(str(path))
        path.write_text(text + "# edited\n")
    elif state == "writable":
        trust.trust(str(path))
        path.chmod(0o666)

    anyio.run(_use_every_tool, engine, repo, models, checks)
    findings = run_checks(DoctorContext(settings=Settings(), project=repo), [check_config, check_providers])
    launcher = launcher_module()
    previous = os.getcwd()
    os.chdir(repo)
    try:
        handed = launcher.key_variables_for(os.environ)
    finally:
        os.chdir(previous)

    assert fake.authorizations == []
    assert not marker.exists()
    assert handed == []
    assert any(f.name == "project config" and not f.ok for f in findings)
