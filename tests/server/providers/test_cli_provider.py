from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from server.catalog.presets import PRESETS
from server.providers.base import ChatMessage, CompletionRequest, ErrorClass, ProviderError
from server.providers.cli import CliProvider

pytestmark = pytest.mark.anyio

REQUEST = CompletionRequest(messages=(ChatMessage("user", "hello there"),))


async def test_cli_provider_substitutes_prompt_and_model_and_returns_stdout() -> None:
    script = "import sys; print(sys.argv[1].upper(), sys.argv[2])"
    provider = CliProvider("cli", command=[sys.executable, "-c", script, "{prompt}", "{model}"])
    with anyio.fail_after(20):
        completion = await provider.complete("m1", REQUEST, timeout_s=15)
    assert completion.text == "HELLO THERE m1"


async def test_cli_provider_sends_the_prompt_on_stdin_without_a_placeholder() -> None:
    provider = CliProvider("cli", command=[sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"])
    with anyio.fail_after(20):
        completion = await provider.complete("m", REQUEST, timeout_s=15)
    assert completion.text == "ereht olleh"


async def test_cli_provider_times_out_a_slow_command() -> None:
    provider = CliProvider("cli", command=[sys.executable, "-c", "import time; time.sleep(30)"])
    with anyio.fail_after(20), pytest.raises(ProviderError) as caught:
        await provider.complete("m", REQUEST, timeout_s=0.5)
    assert caught.value.error_class is ErrorClass.TIMEOUT


async def test_cli_provider_reports_a_failing_command_with_its_stderr() -> None:
    provider = CliProvider("cli", command=[sys.executable, "-c", "import sys; sys.exit('quota exceeded')"])
    with anyio.fail_after(20), pytest.raises(ProviderError, match="quota exceeded") as caught:
        await provider.complete("m", REQUEST, timeout_s=15)
    assert caught.value.error_class is ErrorClass.CLI_ERROR


async def test_cli_provider_names_a_missing_command() -> None:
    provider = CliProvider("cli", command=["definitely-not-a-command-xyz"])
    with anyio.fail_after(20), pytest.raises(ProviderError, match="command not found"):
        await provider.complete("m", REQUEST, timeout_s=15)


async def test_a_cli_provider_of_a_registry_runs_in_that_sessions_project(tmp_path: Path) -> None:
    from server.config import SwitchboardConfig
    from server.providers.registry import Registry

    project = tmp_path / "project"
    project.mkdir()
    command = [sys.executable, "-c", "import os; print(os.getcwd())"]
    config = SwitchboardConfig.model_validate({"providers": {"agent": {"kind": "cli", "command": command}}})
    provider = Registry(config, environ={}, cwd=project).get("agent")
    with anyio.fail_after(20):
        completion = await provider.complete("m", REQUEST, timeout_s=15)
    assert completion.text == str(project)


LONG_PROMPT = "review this: " + "x" * (200 * 1024)


def fake_cli(tmp_path: Path, name: str) -> Path:
    """An executable standing in for an agent CLI: it answers with its arguments and how many bytes stdin held."""
    script = tmp_path / name
    script.write_text(
        f"#!{sys.executable}\nimport sys\ndata = sys.stdin.buffer.read()\nprint(' '.join(sys.argv[1:]), len(data))\n"
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(("preset", "name"), [("gemini-cli", "gemini"), ("codex", "codex")])
async def test_a_preset_cli_gets_a_prompt_over_200_kib_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str, name: str
) -> None:
    fake_cli(tmp_path, name)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    provider = CliProvider("agent", command=PRESETS[preset].command)
    request = CompletionRequest(messages=(ChatMessage("user", LONG_PROMPT),))
    with anyio.fail_after(20):
        completion = await provider.complete("m1", request, timeout_s=15)
    args, _, size = completion.text.rpartition(" ")
    assert int(size) == len(LONG_PROMPT.encode())
    assert "m1" in args and "x" * 100 not in args


async def test_a_prompt_placeholder_too_long_for_argv_names_the_fix(tmp_path: Path) -> None:
    script = fake_cli(tmp_path, "agent")
    provider = CliProvider("agent", command=[str(script), "{prompt}"])
    request = CompletionRequest(messages=(ChatMessage("user", LONG_PROMPT),))
    with anyio.fail_after(20), pytest.raises(ProviderError, match="remove \\{prompt\\}") as raised:
        await provider.complete("m1", request, timeout_s=15)
    assert raised.value.error_class is ErrorClass.CLI_ERROR
