"""``switchboard statusline``: the line for Claude Code's ``statusLine`` setting (reads its JSON on stdin).

``install --statusline`` registers ``python3 -I -S hooks/statusline.py`` itself, the fast path; this command
(what portable shared settings name) replaces itself with that script at once, so the line is the same.
"""

from __future__ import annotations

import argparse
import os
import sys

HELP = "one line for Claude Code's status bar: cost, spend today, delegations, context (reads stdin)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options: Claude Code passes everything on stdin


def run(args: argparse.Namespace) -> int:
    from server.hooks_path import hooks_dir

    try:
        script = hooks_dir() / "statusline.py"
    except FileNotFoundError:
        print("switchboard")
        return 0
    os.execv(sys.executable, [sys.executable, "-I", "-S", str(script)])
    return 0  # pragma: no cover - execv does not return
