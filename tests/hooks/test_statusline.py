"""hooks/statusline.py: one line from Claude Code's JSON and the service's summary; never a traceback."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.service.wire import launcher_module

SCRIPT = Path(__file__).resolve().parents[2] / "hooks" / "statusline.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("switchboard_statusline", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


statusline = _module()
NOW = time.time()
TODAY = time.strftime("%Y-%m-%d", time.gmtime(NOW))
CLAUDE = {"session_id": "s-1", "cost": {"total_cost_usd": 0.4213}, "context_window": {"used_percentage": 23.4}}


def _summary(**extra: Any) -> dict[str, Any]:
    sessions = {"s-1": {"stored_usd": 0.30, "delegations": 3, "saved_usd": 0.081}, "s-2": {"stored_usd": 2.0}}
    return {"day": TODAY, "today_usd": 2.5, "sessions": sessions, "breakers": [], "written_at": NOW, **extra}


def _run(stdin: bytes, home: Path) -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": os.environ["PATH"], "SWITCHBOARD_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT)], input=stdin, env=env, capture_output=True, timeout=30
    )


def test_the_line_shows_the_session_cost_today_with_it_delegations_their_saving_and_the_context() -> None:
    # today: 2.5 in the store, of which 0.30 is this session as last ingested; Claude Code says 0.4213 now.
    text = statusline.line(CLAUDE, _summary(), running=True, now=NOW)
    assert text == "$0.42 session · $2.62 today · 3 delegations saved $0.08 · ctx 23%"


def test_an_open_breaker_and_a_budget_near_its_cap_are_named() -> None:
    summary = _summary(breakers=["groq"], daily_cap_usd=5.0, daily_spent_usd=4.6)
    text = statusline.line(CLAUDE, summary, running=True, now=NOW)
    assert text.endswith("· breaker open: groq · daily budget 92% of $5.00 · ctx 23%")
    assert "budget" not in statusline.line(CLAUDE, _summary(daily_cap_usd=5.0, daily_spent_usd=1.0), True, NOW)


def test_with_the_service_down_the_line_keeps_what_claude_code_knows_and_says_so() -> None:
    text = statusline.line(CLAUDE, {}, running=False, now=NOW)
    assert text == "$0.42 session · ctx 23% · switchboard service not running"
    stale = statusline.line(CLAUDE, _summary(written_at=NOW - 600), running=False, now=NOW)
    assert "$2.62 today (as of " in stale and stale.endswith("switchboard service not running")


def test_yesterdays_summary_gives_no_today_figure() -> None:
    text = statusline.line(CLAUDE, _summary(day="2000-01-01"), running=True, now=NOW)
    assert text == "$0.42 session · ctx 23%"


def test_the_script_reads_the_summary_file_the_service_writes(tmp_path: Path) -> None:
    from server.service.summary import write_summary

    (tmp_path / "service").mkdir()
    write_summary(tmp_path / "service", _summary())
    done = _run(json.dumps(CLAUDE).encode(), tmp_path)
    assert done.returncode == 0 and done.stderr == b""
    # No service holds the lock here, so the figures are "as of" the file's time.
    assert done.stdout.decode().startswith("$0.42 session · $2.62 today (as of ")


@given(
    stdin=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.floats() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    ).map(lambda v: json.dumps(v).encode())
)
def test_any_input_gives_one_line_exit_0_and_nothing_on_stderr(stdin: bytes) -> None:
    text = statusline.line(statusline.read_input(_Bytes(stdin)), {}, running=False, now=NOW)
    assert "\n" not in text and text


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, limit: int) -> bytes:
        return self.data[:limit]


@pytest.mark.parametrize("stdin", [b"", b"not json", b"[1, 2]", b'{"cost": {"total_cost_usd": "NaN"}}', b"\xff\xfe"])
def test_bad_input_as_claude_code_runs_it_is_a_shorter_line(stdin: bytes, tmp_path: Path) -> None:
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "statusline.json").write_text("{half a file")
    done = _run(stdin, tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == b"switchboard service not running\n"


def test_it_finds_the_same_home_as_the_launcher(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    launcher = launcher_module()
    for env in ({"SWITCHBOARD_HOME": "/a"}, {"CLAUDE_PLUGIN_DATA": "/b"}, {"XDG_DATA_HOME": str(tmp_path)}, {}):
        for name in ("SWITCHBOARD_HOME", "CLAUDE_PLUGIN_DATA", "XDG_DATA_HOME"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert statusline.home() == launcher.home()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _verdict(load: Any, raw: bytes) -> tuple[str, Any]:
    try:
        return "value", json.dumps(load(raw), sort_keys=True)
    except (ValueError, RecursionError) as error:
        return "error", type(error).__name__


@given(JSON_VALUES, st.sampled_from(["", " ", "\n", "\t \r\n"]))
def test_the_scanner_reads_valid_json_as_json_loads_does(value: Any, space: str) -> None:
    raw = (space + json.dumps(value) + space).encode()
    assert _verdict(statusline.loads, raw) == _verdict(json.loads, raw)


@given(st.binary(max_size=64) | st.text(max_size=64).map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_anything_else_gets_json_loads_verdict(raw: bytes) -> None:
    assert _verdict(statusline.loads, raw) == _verdict(json.loads, raw)


@pytest.mark.parametrize("raw", [b'{"a": 1} x', b'{"a":', b"[" * 100_000, b'"\\ud800"', b"\xef\xbb\xbf{}", b"1e999"])
def test_edge_inputs_get_json_loads_verdict(raw: bytes) -> None:
    assert _verdict(statusline.loads, raw) == _verdict(json.loads, raw)


def test_a_refresh_does_not_import_json_or_re(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "SWITCHBOARD_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", str(SCRIPT)],
        input=json.dumps(CLAUDE).encode(),
        env=env,
        capture_output=True,
        timeout=30,
    )
    assert done.stdout.decode().strip() == "$0.42 session · ctx 23% · switchboard service not running"
    imported = {row.rsplit("|", 1)[-1].strip() for row in done.stderr.decode().splitlines()}
    assert "_json" in imported
    assert not imported & {"json", "json.decoder", "re"}
