"""The ``switchboard`` command line reads in workflow order and answers a bare call with its help."""

from __future__ import annotations

import re

import pytest

from server.cli import main


def test_no_arguments_prints_the_help_with_commands_in_workflow_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: switchboard")
    listed = re.findall(r"^    (\w+)\s", out, flags=re.MULTILINE)
    assert listed[:6] == ["init", "install", "import", "dashboard", "stats", "doctor"]
    assert {"statusline", "export", "service", "uninstall", "ingest", "serve"} <= set(listed)


def test_the_words_module_gives_the_right_plural() -> None:
    from server.words import plural

    assert [plural(n, "session") for n in (0, 1, 2)] == ["0 sessions", "1 session", "2 sessions"]
    assert plural(1, "provider") == "1 provider"
