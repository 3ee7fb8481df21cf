"""The ``switchboard`` command line reads in workflow order and answers a bare call with its help."""

from __future__ import annotations

import importlib
import re

import pytest

from server.cli import COMMANDS, command_help, main


def test_no_arguments_prints_the_help_with_commands_in_workflow_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: switchboard")
    listed = re.findall(r"^    (\w+)\s", out, flags=re.MULTILINE)
    assert listed[:6] == ["init", "install", "import", "dashboard", "stats", "doctor"]
    assert {"statusline", "export", "service", "uninstall", "ingest", "serve"} <= set(listed)


def test_the_help_lists_every_command_with_the_help_line_its_module_holds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name in COMMANDS:
        module = importlib.import_module(f"server.commands.{name}")
        assert command_help(name) == module.HELP
        assert f" {name} {module.HELP} " in f"{listing} ", name


def test_a_commands_own_help_opens_with_its_modules_line(capsys: pytest.CaptureFixture[str]) -> None:
    from server.commands import relearn

    with pytest.raises(SystemExit):
        main(["relearn", "--help"])
    assert relearn.HELP in " ".join(capsys.readouterr().out.split())


def test_the_words_module_gives_the_right_plural() -> None:
    from server.words import plural

    assert [plural(n, "session") for n in (0, 1, 2)] == ["0 sessions", "1 session", "2 sessions"]
    assert plural(1, "provider") == "1 provider"
