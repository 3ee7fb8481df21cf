"""``switchboard capture [CMD ...]``: run the capture hook installed with this switchboard.

Shared project settings (``install --project DIR --shared``) name this instead of ``capture.sh``'s path,
which differs on every machine. It replaces itself with ``sh capture.sh`` at once (one Python start-up,
~40 ms, the price of a portable command), so stdin, the exit status and the silence are capture.sh's.
"""

from __future__ import annotations

import argparse
import os

HELP = "run the capture hook (what shared project settings call)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("then", nargs=argparse.REMAINDER, help="a command to start detached once the event is spooled")


def run(args: argparse.Namespace) -> int:
    from server.hooks_path import hooks_dir  # not server.install: that would load the store (~0.8 s)

    try:
        script = hooks_dir() / "capture.sh"
    except FileNotFoundError:
        return 0  # a hook must never fail Claude Code: without capture.sh there is nothing to do
    os.execv("/bin/sh", ["sh", str(script), *args.then])
    return 0  # pragma: no cover - execv does not return
