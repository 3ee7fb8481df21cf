"""A ``solve`` check: a command the user named in the TOML, run on a candidate answer, giving a score in [0, 1].

An MCP client only ever names a check (``check="tests"``); the command comes from ``[solve.checks]`` in the
config, so no client can run a command past Claude Code's permission prompts. The command runs in the project
root without a shell, with the candidate on stdin, a timeout, an environment stripped to a few harmless variables
(no provider keys) whose ``HOME`` is a private temporary folder (``~/.config/switchboard/.env`` is out of reach),
and its output capped and redacted (it goes into a refinement prompt and the node's row). Its whole process group
is killed when it ends, at its timeout or after a normal exit: a check leaves nothing running. Its score is the
last line of stdout when that is a number in [0, 1]; otherwise 1 for exit 0 and 0 for any other exit.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream, Process

__all__ = ["CHECK_ENV_KEYS", "FEEDBACK_CHARS", "CheckResult", "check_env", "run_check", "score_from"]

CHECK_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
"""The variables a check sees besides its private ``HOME``: enough to find its tools, none that holds a key."""
DRAIN_GRACE_S = 1.0
"""After the check exits and its group is killed, how long its output may still take to arrive."""
OUTPUT_CAP_BYTES = 256_000
"""Output read beyond this is discarded (the process still runs to its end or its timeout)."""
FEEDBACK_CHARS = 2_000
"""The tail of the check's output that a refinement prompt (and the node's row) carries."""


@dataclass(frozen=True)
class CheckResult:
    """What a check said about one answer."""

    score: float
    exit_code: int | None
    """None when the check was killed at its timeout or could not start."""
    feedback: str
    """The tail of stdout and stderr, or why the check did not run."""


def check_env(environ: Mapping[str, str], home: str) -> dict[str, str]:
    """The check's environment: :data:`CHECK_ENV_KEYS` from ``environ``, and ``HOME`` set to ``home``."""
    return {**{key: environ[key] for key in CHECK_ENV_KEYS if key in environ}, "HOME": home}


def score_from(stdout: str, exit_code: int) -> float:
    """The last non-empty stdout line if it is a finite number in [0, 1]; else 1 for exit 0, 0 otherwise."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if lines:
        try:
            value = float(lines[-1])
        except ValueError:
            value = math.nan
        if 0.0 <= value <= 1.0:  # NaN fails both comparisons
            return value
    return 1.0 if exit_code == 0 else 0.0


async def _drain(stream: ByteReceiveStream | None, sink: bytearray, done: anyio.Event) -> None:
    try:
        if stream is None:
            return
        async for chunk in stream:
            room = OUTPUT_CAP_BYTES - len(sink)
            if room > 0:
                sink.extend(chunk[:room])
    finally:
        done.set()


async def _feed(process: Process, candidate: bytes) -> None:
    if process.stdin is None:
        return
    try:
        await process.stdin.send(candidate)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, BrokenPipeError):
        pass  # the check need not read its stdin
    finally:
        await process.stdin.aclose()


def _kill_group(process: Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(stdout: bytes | bytearray, stderr: bytes | bytearray) -> str:
    from server.redact import redact_text

    text = stdout.decode("utf-8", "replace")
    err = stderr.decode("utf-8", "replace").strip()
    if err:
        text = f"{text.rstrip()}\n[stderr]\n{err}"
    text = redact_text(text.strip())  # whole, before the cut: a secret cut in half would no longer be recognised
    return text if len(text) <= FEEDBACK_CHARS else "…" + text[-FEEDBACK_CHARS:]


async def _supervise(process: Process, candidate: bytes, stdout: bytearray, stderr: bytearray) -> None:
    """Feed and drain the check until it exits; then kill what it left running, and take the output still due."""
    drained = [anyio.Event(), anyio.Event()]
    async with anyio.create_task_group() as group:
        group.start_soon(_feed, process, candidate)
        group.start_soon(_drain, process.stdout, stdout, drained[0])
        group.start_soon(_drain, process.stderr, stderr, drained[1])
        await process.wait()
        _kill_group(process)  # a child left behind (``(sleep 503 &)``) dies with the group, and its pipes close
        with anyio.move_on_after(DRAIN_GRACE_S):
            for event in drained:
                await event.wait()
        group.cancel_scope.cancel()  # a descendant that left the group still holds a pipe: stop reading it


async def run_check(
    command: str, candidate: str, *, cwd: Path, timeout_s: float, environ: Mapping[str, str]
) -> CheckResult:
    """Run ``command`` (split like a shell would, but run without one) on ``candidate``; never raises for its
    failures: a check that cannot start, fails or hangs scores 0 with the reason in ``feedback``."""
    argv = shlex.split(command)
    stdout, stderr = bytearray(), bytearray()
    home = tempfile.mkdtemp(prefix="switchboard-check-")  # 0700, removed below
    try:
        process = await anyio.open_process(
            argv,
            cwd=cwd,
            env=check_env(environ, home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so what it spawned is killed with it
        )
    except OSError as exc:
        shutil.rmtree(home, ignore_errors=True)
        return CheckResult(0.0, None, f"check could not start: {exc}")
    timed_out = False
    try:
        with anyio.move_on_after(timeout_s) as scope:
            await _supervise(process, candidate.encode(), stdout, stderr)
        timed_out = scope.cancelled_caught
    finally:
        _kill_group(process)
        if process.returncode is None:
            with anyio.CancelScope(shield=True):
                await process.wait()
        await process.aclose()
        shutil.rmtree(home, ignore_errors=True)
    if timed_out:
        return CheckResult(0.0, None, f"check timed out after {timeout_s:g} s\n{_tail(stdout, stderr)}".strip())
    code = process.returncode if process.returncode is not None else -1
    text = stdout.decode("utf-8", "replace")
    feedback = _tail(stdout, stderr) or f"exit {code}"
    return CheckResult(score_from(text, code), code, f"exit {code}\n{feedback}" if code else feedback)
