"""The ``switchboard`` command.

Each subcommand lives in its own module under ``server.commands`` exposing ``HELP`` (its one line, in the command
list and atop its own help: written there only), ``add_arguments(parser)`` and ``run(args) -> int``. Only the
chosen one is imported, so a quick command (``ingest``, started by the SessionEnd hook) does not pay for the
others' imports; the list in ``switchboard --help`` reads each module's ``HELP`` from its source instead.
"""

from __future__ import annotations

import argparse
import ast
import gc
import importlib
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from server import __version__

__all__ = ["COMMANDS", "command_help", "entry", "main"]

COMMANDS: tuple[str, ...] = (
    # In the order a new user meets them (the help lists them so): set up, capture, look, check; then the rest.
    "init",
    "install",
    "import",
    "dashboard",
    "stats",
    "doctor",
    "statusline",
    "export",
    "service",
    "trust",
    "uninstall",
    "ingest",
    "serve",
    "relearn",
    "capture",
)

DESCRIPTION = "Switchboard: hand work to other LLM providers, and see what Claude Code sessions cost."

_COMMANDS_DIR = Path(__file__).parent / "commands"
_HELP_LINE = re.compile(r"""^HELP\s*=\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*$""", re.MULTILINE)


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"server.commands.{name}")


def command_help(name: str) -> str:
    """The ``HELP`` line of ``server/commands/<name>.py``, read from its source without importing it (one line,
    a string literal: parsing the 15 modules measured 130 ms here, this regex 9 ms).

    Raises:
        LookupError: the module has no ``HELP = "..."`` line.
    """
    found = _HELP_LINE.search((_COMMANDS_DIR / f"{name}.py").read_text(encoding="utf-8"))
    if found is None:
        raise LookupError(f'server/commands/{name}.py has no HELP = "..." line')
    text = ast.literal_eval(found.group(1))
    if not isinstance(text, str):
        raise LookupError(f"server/commands/{name}.py: HELP is not a string")
    return text


def _parser(chosen: str | None, listing: bool) -> argparse.ArgumentParser:
    """The parser; ``chosen``'s arguments added, and the command list's lines only when ``listing`` (help may be
    printed), so running a command reads no other command's module."""
    parser = argparse.ArgumentParser(prog="switchboard", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"switchboard {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if name == chosen:
            module = _load(name)
            help_text: str = module.HELP
            module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
        else:
            sub.add_parser(name, help=command_help(name) if listing else None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``switchboard`` command line; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    known = chosen if chosen in COMMANDS else None
    parser = _parser(known, listing=known is None or "-h" in args_list or "--help" in args_list)
    args = parser.parse_args(args_list)
    if args.command is None:  # no command: the help is the answer, not an argparse error
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return int(_load(args.command).run(args) or 0)


def entry() -> NoReturn:
    """``switchboard`` as a process (the installed script, ``python -m server``): :func:`main`, then exit.

    What is still alive when the command returns is left to the operating system rather than freed object by
    object: the interpreter's teardown collected every module's classes and functions (they hold each other in
    cycles), ~0.15 s once SQLAlchemy and the models are loaded. ``gc.freeze`` keeps them out of that last
    collection. Side by side, as the installed script: ``switchboard stats`` 0.71-0.80 -> 0.58-0.62 s; an import
    of 40 sessions 1.67-1.88 -> 1.62-1.68 s. Garbage is collected first, so a store or file a command dropped is
    still closed (test); atexit handlers and the flush of stdout and stderr run as before. :func:`main` alone (as
    tests call it) leaves the collector alone.
    """
    code = main()
    gc.collect()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    sys.exit(main())
