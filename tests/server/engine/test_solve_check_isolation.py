"""A ``solve`` check leaves nothing running, cannot reach the user's home, and its output reaches no prompt unredacted.

Before: a check that exited 0 left ``(sleep 503 &)`` running (its group was killed only at a timeout, and the
child holding the check's stdout made the run wait for that timeout); the check's ``HOME`` was the user's, so
``~/.config/switchboard/.env`` was in reach; its output went into the refinement prompt as it was.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from server.engine.solve.check import run_check
from server.settings import Settings
from server.store.models import SolveNode
from tests.fakes.openai_api import FakeOpenAI
from tests.server.engine.solve_support import Quality, refining, solve_client, solve_config
from tests.server.recorded import recorded
from tests.server.service.launch import wait_gone

pytestmark = pytest.mark.anyio

GITHUB = "ghp_" + "Q" * 36
OPENAI = "sk-live-0123456789abcdefghijklmn"


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("redirect", ["", " >/dev/null 2>&1"], ids=["holding-stdout", "detached-output"])
async def test_a_check_that_exits_0_leaves_no_child_running_and_does_not_wait_for_it(
    tmp_path: Path, redirect: str
) -> None:
    pidfile = tmp_path / "pids"
    command = f"sh -c {shlex.quote(f'(sleep 503{redirect} & echo $! > {pidfile}); echo 0.5')}"
    started = time.monotonic()
    result = await run_check(command, "answer", cwd=tmp_path, timeout_s=30, environ={"PATH": "/usr/bin:/bin"})
    assert result.exit_code == 0 and result.score == 0.5
    assert time.monotonic() - started < 15  # not the 30 s timeout: the run ends when the check does
    [pid] = _pids(pidfile)
    await anyio.to_thread.run_sync(wait_gone, pid, 10, "the check's child to die with its group")


async def test_the_check_home_is_a_private_folder_gone_afterwards_and_the_users_dotenv_is_out_of_reach(
    tmp_path: Path,
) -> None:
    user_home = tmp_path / "user"
    (user_home / ".config" / "switchboard").mkdir(parents=True)
    (user_home / ".config" / "switchboard" / ".env").write_text("MY_KEY=plain-secret-value-42\n")
    script = 'echo "home=$HOME"; stat -c %a "$HOME"; cat "$HOME/.config/switchboard/.env" 2>&1; echo 1'
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(user_home)}
    result = await run_check(f"sh -c {shlex.quote(script)}", "", cwd=tmp_path, timeout_s=30, environ=environ)
    assert "plain-secret-value-42" not in result.feedback
    [home_line] = [line for line in result.feedback.splitlines() if line.startswith("home=")]
    check_home = Path(home_line.removeprefix("home="))
    assert check_home != user_home and "\n700\n" in f"\n{result.feedback}\n"
    assert not await anyio.Path(check_home).exists()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    qualities = {"good": Quality(0.5, 0.25), "weak": Quality(0.25, 0.05)}
    with FakeOpenAI(models=["good", "weak"], responder=refining(qualities)) as server:
        yield server


async def test_through_solve_the_refinement_prompt_and_the_rows_carry_the_check_output_redacted_and_no_child_lives(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    np.random.seed(7)
    pidfile = tmp_path / "pids"
    script = (
        f"cat >/dev/null; (sleep 503 >/dev/null 2>&1 & echo $! >> {pidfile}); "
        f"echo 'token leaked: {GITHUB}'; echo 'OPENAI_API_KEY={OPENAI}'; echo 0.5"
    )
    config = solve_config(fake, ["good", "weak"], tmp_path, solve={"checks": {"leaky": f"sh -c {shlex.quote(script)}"}})
    arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "check": "leaky", "max_calls": 3}
    with anyio.fail_after(60):
        async with solve_client(settings, engine, config, tmp_path) as client:
            result = await client.call_tool("solve", arguments)
    assert not result.is_error
    sent = json.dumps(fake.requests)
    assert "## A previous answer" in sent and "[REDACTED" in sent  # a refinement carried the check's output
    assert GITHUB not in sent and OPENAI not in sent
    with recorded(engine) as db:
        rows = [row.model_dump_json() for row in db.exec(select(SolveNode))]
    assert rows and not any(GITHUB in row or OPENAI in row for row in rows)
    assert json.dumps(result.model_dump(mode="json")).count(GITHUB) == 0
    pids = _pids(pidfile)
    assert len(pids) == 3
    for pid in pids:
        await anyio.to_thread.run_sync(wait_gone, pid, 10, "each check's child to die with its group")
