"""Drive the real Codex CLI and Gemini CLI offline against loopback fakes, with their logs in a test home.

Nothing reaches the internet: each CLI's base URL is the fake, its telemetry, analytics, update checks and
usage statistics are off in the home's config, and PATH holds only system folders and node.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.gemini_api import FakeGemini
from tests.fakes.openai_responses import FakeResponses

__all__ = [
    "CODEX",
    "GEMINI",
    "CliRun",
    "codex_home",
    "environ_without_agent_homes",
    "gemini_home",
    "run_codex",
    "run_gemini",
]

REPO = Path(__file__).resolve().parents[2]
CODEX = REPO / "tests" / "node_modules" / ".bin" / "codex"
GEMINI = REPO / "tests" / "node_modules" / ".bin" / "gemini"
_NODE_DIR = str(Path(shutil.which("node") or "/usr/bin/node").parent)


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def _base_env(home: Path) -> dict[str, str]:
    return {"PATH": f"{_NODE_DIR}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "NO_COLOR": "1"}


def codex_home(home: Path, fake: FakeResponses, model: str = "gpt-5.1-codex") -> Path:
    """``home/.codex`` with a config.toml that sends every request to ``fake`` and nothing anywhere else."""
    folder = home / ".codex"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(
        f'model = "{model}"\n'
        'model_provider = "fake"\n'
        "check_for_update_on_startup = false\n"
        "[analytics]\nenabled = false\n"
        "[feedback]\nenabled = false\n"
        '[otel]\nexporter = "none"\n'
        f'[model_providers.fake]\nname = "fake"\nbase_url = "{fake.base_url}"\nwire_api = "responses"\n'
        'env_key = "FAKE_OPENAI_KEY"\n'
    )
    return folder


def run_codex(
    home: Path,
    cwd: Path,
    prompt: str,
    timeout_s: float = 120,
    trust_hooks: bool = False,
    extra_env: dict[str, str] | None = None,
) -> CliRun:
    """``codex exec`` once, headless; its rollout lands under ``home/.codex/sessions``.

    ``trust_hooks``: run the hooks in ``hooks.json`` (Codex runs a hook only once the user has trusted it in its
    ``/hooks`` screen; ``--dangerously-bypass-hook-trust`` stands for that step here).
    """
    env = {**_base_env(home), "CODEX_HOME": str(home / ".codex"), "FAKE_OPENAI_KEY": "fake-key", **(extra_env or {})}
    command = [str(CODEX), "exec", "--skip-git-repo-check", "--sandbox", "danger-full-access"]
    command += ["--dangerously-bypass-hook-trust", prompt] if trust_hooks else [prompt]
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def gemini_home(home: Path) -> Path:
    """``home/.gemini`` with an API-key login and telemetry, usage statistics and update checks off."""
    folder = home / ".gemini"
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "telemetry": {"enabled": False},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    return folder


def run_gemini(
    home: Path,
    cwd: Path,
    fake: FakeGemini,
    prompt: str,
    model: str = "gemini-2.5-flash",
    timeout_s: float = 180,
    extra_env: dict[str, str] | None = None,
) -> CliRun:
    """``gemini -p`` once, headless (``--yolo`` runs tools); its chat lands under ``home/.gemini/tmp``."""
    env = {
        **_base_env(home),
        "GEMINI_API_KEY": "fake-key",
        "GOOGLE_GEMINI_BASE_URL": fake.root_url,
        "GEMINI_TELEMETRY_ENABLED": "false",
        "GEMINI_CLI_NO_RELAUNCH": "true",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
        "NO_BROWSER": "1",
        **(extra_env or {}),
    }
    command = [str(GEMINI), "-p", prompt, "-m", model, "--output-format", "json", "--yolo"]
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def environ_without_agent_homes() -> dict[str, str]:
    """This process's environment less CODEX_HOME (a test names every home it means)."""
    return {k: v for k, v in os.environ.items() if k != "CODEX_HOME"}
