from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server import trust
from server.analytics import Window, context_pressure
from server.settings import Settings
from server.store.background import ingest_once

HOOK = Path(__file__).parents[2] / "hooks" / "context_pressure.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("context_pressure_hook", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assistant(tokens: int, sidechain: bool = False) -> str:
    usage = {
        "input_tokens": 10,
        "cache_read_input_tokens": tokens - 110,
        "cache_creation_input_tokens": 100,
        "output_tokens": 500,
    }
    entry = {"type": "assistant", "isSidechain": sidechain, "message": {"id": "m", "usage": usage}}
    return json.dumps(entry)


def _transcript(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _run(payload: Any, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # -I -S: isolated, no site-packages: the hook must work with the standard library alone.
    return subprocess.run(
        [sys.executable, "-I", "-S", str(HOOK)],
        input=payload if isinstance(payload, str) else json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        env={"SWITCHBOARD_HOME": str(home), "HOME": str(home), "PATH": "/usr/bin:/bin"},
    )


def _payload(transcript: Path, cwd: Path) -> dict[str, str]:
    return {
        "hook_event_name": "UserPromptSubmit",
        "session_id": "s-1",
        "transcript_path": str(transcript),
        "cwd": str(cwd),
        "prompt": "next",
    }


def _spooled(home: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((home / "spool" / "new").glob("*"))]


def test_over_the_threshold_the_hook_adds_a_note_and_spools_a_context_pressure_event(tmp_path: Path) -> None:
    home = tmp_path / "home"
    transcript = _transcript(
        tmp_path / "t.jsonl",
        _assistant(50_000),
        _assistant(150_000),
        _assistant(9_000, True),
        json.dumps({"type": "user", "message": {"content": "hi"}}),
    )
    result = _run(_payload(transcript, tmp_path), home, tmp_path)
    assert result.returncode == 0
    output = json.loads(result.stdout)["hookSpecificOutput"]
    assert output["hookEventName"] == "UserPromptSubmit"
    assert output["additionalContext"].startswith("Context window 75% full (150,000 of 200,000 tokens).")
    assert "delegate" in output["additionalContext"]
    assert "\n" not in output["additionalContext"]
    (event,) = _spooled(home)
    assert event["hook_event_name"] == "ContextPressure"
    assert (event["session_id"], event["context_tokens"], event["fill_ratio"]) == ("s-1", 150_000, 0.75)
    assert list((home / "spool" / "tmp").iterdir()) == []


def test_under_the_threshold_the_hook_prints_and_spools_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    transcript = _transcript(tmp_path / "t.jsonl", _assistant(139_000))
    result = _run(_payload(transcript, tmp_path), home, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (home / "spool").exists()


def test_the_project_config_sets_threshold_and_window(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / ".switchboard.toml").write_text("[context]\nthreshold = 0.5\nwindow_tokens = 100000\n")
    transcript = _transcript(tmp_path / "t.jsonl", _assistant(60_000))
    untrusted = _run(_payload(transcript, project / "sub"), home, tmp_path)
    assert (untrusted.returncode, untrusted.stdout) == (0, "")  # an untrusted project config is not read
    trust.trust(str(project / ".switchboard.toml"), {"HOME": str(home)})
    result = _run(_payload(transcript, project / "sub"), home, tmp_path)
    assert "60% full (60,000 of 100,000 tokens)" in json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]


@pytest.mark.parametrize("stdin", ["not json", "[]", json.dumps({"transcript_path": "/nonexistent/t.jsonl"})])
def test_bad_input_is_silent_and_exits_zero(tmp_path: Path, stdin: str) -> None:
    result = _run(stdin, tmp_path / "home", tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_only_the_tail_of_the_transcript_is_read(tmp_path: Path) -> None:
    hook = _module()
    filler = json.dumps({"type": "user", "message": {"content": "x" * 1000}})
    far = _transcript(tmp_path / "far.jsonl", _assistant(120_000), *[filler] * 5000)  # ~5 MB after the usage
    near = _transcript(tmp_path / "near.jsonl", *[filler] * 5000, _assistant(120_000), *[filler] * 100)
    assert far.stat().st_size > hook.MAX_TAIL_BYTES
    assert hook.latest_context_tokens(near) == 120_000
    assert hook.latest_context_tokens(far) is None


def test_a_spooled_warning_is_ingested_and_reported_by_analytics(
    tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    transcript = _transcript(tmp_path / "t.jsonl", _assistant(180_000))
    assert _run(_payload(transcript, tmp_path), settings.home, tmp_path).stdout
    assert ingest_once(settings, engine).error is None
    with Session(engine) as db:
        report = context_pressure(db, Window())
    assert (report.warnings, report.sessions_warned) == (1, 1)
    assert (report.latest[0].session_id, report.latest[0].fill_ratio) == ("s-1", 0.9)
