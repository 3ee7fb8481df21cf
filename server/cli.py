"""The ``switchboard`` command.

Each subcommand lives in its own module under ``server.commands`` exposing ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Only the chosen one is imported, so a quick
command (``ingest``, started by the SessionEnd hook) does not pay for the others' imports.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from server import __version__

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, str] = {
    # In the order a new user meets them (the help lists them so): set up, capture, look, check; then the rest.
    "init": "write a commented config file to start from",
    "install": "register the hooks and the MCP server with Claude Code",
    "import": "import past Claude Code sessions from their transcripts (~/.claude/projects)",
    "dashboard": "open the analytics page of the running service (starting it when none runs)",
    "stats": "usage, cost, savings and provider health",
    "doctor": "say what is installed where, and what is wrong with a fix for each",
    "statusline": "one line for Claude Code's status bar: cost, spend today, delegations, context (reads stdin)",
    "export": "write one table of the store as CSV or JSON lines",
    "service": "the warm service behind every session: start, stop, status, run",
    "trust": "trust a project's .switchboard.toml (it may send keys and run commands): DIR, --list, --revoke",
    "uninstall": "remove exactly what install added",
    "ingest": "move captured hook events from the spool into the store",
    "serve": "run the MCP server (stdio, or streamable HTTP with --http)",
    "relearn": "rebuild learned routing's totals from the recorded rows",
    "capture": "run the capture hook (what shared project settings call)",
}


DESCRIPTION = "Switchboard: hand work to other LLM providers, and see what Claude Code sessions cost."


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"server.commands.{name}")


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"switchboard {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _load(name).add_arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``switchboard`` command line; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    parser = _parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(args_list)
    if args.command is None:  # no command: the help is the answer, not an argparse error
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return int(_load(args.command).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
