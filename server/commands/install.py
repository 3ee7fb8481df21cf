"""``switchboard install``: register the capture hooks and the MCP server with Claude Code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HELP = "register the hooks and the MCP server with Claude Code"


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """``--project DIR [--shared]`` or ``--user``: which Claude Code settings to change (shared with uninstall)."""
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "--project",
        metavar="DIR",
        type=Path,
        help="hooks in DIR/.claude/settings.local.json, the server in ~/.claude.json for DIR only (local scope)",
    )
    scope.add_argument("--user", action="store_true", help="~/.claude/settings.json and ~/.claude.json")
    scope.add_argument(
        "--codex", action="store_true", help="Codex CLI: capture hooks in $CODEX_HOME/hooks.json (else ~/.codex)"
    )
    scope.add_argument("--gemini", action="store_true", help="Gemini CLI: capture hooks in ~/.gemini/settings.json")
    parser.add_argument(
        "--shared",
        action="store_true",
        help="with --project: portable entries (switchboard on PATH) in DIR/.claude/settings.json and DIR/.mcp.json",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scope_arguments(parser)
    parser.add_argument(
        "--context-pressure",
        action="store_true",
        help="also run hooks/context_pressure.py on each prompt (warns when the context window fills up)",
    )
    parser.add_argument(
        "--statusline",
        action="store_true",
        help="also set Claude Code's statusLine to switchboard's line (cost, spend today, delegations, context)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --statusline: replace a statusLine of your own (uninstall restores it)",
    )
    parser.add_argument(
        "--otel",
        action="store_true",
        help="with --user: make Claude Code export its own telemetry to the switchboard service (api_request rows)",
    )


def agent_target(args: argparse.Namespace) -> Any:
    """The :class:`~server.install.Target` of ``--codex`` / ``--gemini``, else None."""
    from server.install import Target

    if getattr(args, "codex", False):
        from server.store.agents.codex import home

        return Target.agent("codex", home())
    if getattr(args, "gemini", False):
        from server.store.agents.gemini import home

        return Target.agent("gemini", home())
    return None


def run(args: argparse.Namespace) -> int:
    from server.install import InstallError, Target, install

    agent = agent_target(args)
    if agent is not None:
        return _install_agent(agent, args)

    if args.shared and not args.project:
        print("switchboard install: --shared goes with --project DIR", file=sys.stderr)
        return 2
    if args.project and not args.project.is_dir():
        print(f"switchboard install: {args.project} is not a directory; give the project's folder", file=sys.stderr)
        return 1
    if args.otel and not args.user:
        print(
            "switchboard install: --otel needs --user (project settings do not make -p sessions export)",
            file=sys.stderr,
        )
        return 1
    target = Target.project(args.project, shared=args.shared) if args.project else Target.user()
    existed = {path: path.exists() for path in (target.settings_file, target.mcp_file)}
    try:
        changed = install(
            target,
            context_pressure=args.context_pressure,
            otel_port=_otel_port() if args.otel else None,
            statusline=args.statusline,
            force=args.force,
        )
    except (InstallError, FileNotFoundError) as exc:
        print(f"switchboard install: {exc}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"{'updated' if existed.get(path) else 'created'} {path}")
    if changed:
        print("(previous versions are kept under SWITCHBOARD_HOME/backups; switchboard uninstall takes this back out)")
    else:
        print(f"already installed in {target.settings_file} and {target.mcp_file}; nothing changed")
    if args.shared and args.context_pressure:
        print("note: --context-pressure needs an absolute path; it is left out of shared settings", file=sys.stderr)
    print("Claude Code picks this up in new sessions. Check with: switchboard doctor")
    return 0


def _install_agent(target: Any, args: argparse.Namespace) -> int:
    from server.install import InstallError, install

    if args.shared or args.otel or args.context_pressure:
        print("switchboard install: --codex / --gemini take no other option", file=sys.stderr)
        return 2
    existed = target.settings_file.exists()
    try:
        changed = install(target)
    except (InstallError, FileNotFoundError) as exc:
        print(f"switchboard install: {exc}", file=sys.stderr)
        return 1
    if changed:
        print(f"{'updated' if existed else 'created'} {target.settings_file}")
        print("(switchboard uninstall --" + target.scope + " takes this back out)")
    else:
        print(f"already installed in {target.settings_file}; nothing changed")
    if target.scope == "codex":
        print("Codex runs a new hook once you trust it: open codex and review it in /hooks")
    return 0


def _otel_port() -> int:
    """The service's port: ``SWITCHBOARD_SERVICE_PORT``, else the config's ``[dashboard] port``."""
    from server.config import load_config
    from server.settings import Settings

    settings = Settings()
    return settings.service_port or load_config(settings).dashboard.port
