"""The checks ``switchboard doctor`` runs: installation, hook scripts, capture, spool, ingest, store, config.

:data:`CHECKS` lists them in the order they print (the providers' check from :mod:`server.doctor.providers`
among them); adding a check is one function here and one entry in the list.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from server.config import ConfigError, load_config
from server.doctor.base import Check, CheckFunction, DoctorContext
from server.doctor.providers import check_providers
from server.install import Target, hooks_dir, is_ours
from server.store.hook_events import CAPTURE_EVENTS
from server.store.spool import Spool
from server.words import plural

__all__ = ["CHECKS", "check_hook_scripts", "run_checks"]

_PROBE = b'{"hook_event_name": "DoctorProbe"}'
_LOG_RECORD = re.compile(r"^\S+ \S+ \d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")

STUCK_AFTER_S = 3600.0
"""Events older than this still in ``spool/new`` mean nothing is ingesting."""


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None  # pyright: ignore[reportUnknownVariableType]


def _our_hook_commands(settings: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    hooks = settings.get("hooks")
    for event, groups in hooks.items() if isinstance(hooks, dict) else []:
        for group in groups if isinstance(groups, list) else []:
            for handler in group.get("hooks", []) if isinstance(group, dict) else []:
                command = str(handler.get("command", "")) if isinstance(handler, dict) else ""
                if is_ours(command):
                    found.setdefault(event, []).append(command)
    return found


def _targets(ctx: DoctorContext) -> list[Target]:
    local = Target.project(ctx.project, home=ctx.user_home)
    shared = Target.project(ctx.project, home=ctx.user_home, shared=True)
    user = Target.user(ctx.user_home)
    # In the home folder itself the shared project settings are the user settings.
    return [local, user] if shared.settings_file == user.settings_file.resolve() else [local, shared, user]


def _registered(target: Target) -> bool:
    node: Any = _read_json(target.mcp_file) or {}
    for key in target.mcp_path:
        node = node.get(key) if isinstance(node, dict) else None
    return isinstance(node, dict) and "switchboard" in node


def check_installation(ctx: DoctorContext) -> Iterable[Check]:
    """Where the hooks and the MCP server are registered: project settings, user settings, plugin."""
    places: list[str] = []
    commands: set[str] = set()  # Claude Code runs identical hook commands from several settings once
    for target in _targets(ctx):
        settings = _read_json(target.settings_file) or {}
        events = _our_hook_commands(settings)
        if events:
            missing = [e for e in CAPTURE_EVENTS if e not in events]
            detail = f"{target.scope} settings {target.settings_file}: hooks on {len(events)} events"
            flag = "user" if target.scope == "user" else "project"
            fix = f"run: switchboard install --{flag}{_dir_arg(target, ctx)} (missing: {', '.join(missing)})"
            yield Check(f"hooks ({target.scope})", not missing, detail, fix if missing else None)
            places.append(target.scope)
            commands.update(next(iter(events.values())))
        if _registered(target):
            yield _mcp_check(target, settings)
    plugins = (_read_json(Target.user(ctx.user_home).settings_file) or {}).get("enabledPlugins")
    enabled = (
        [k for k, v in plugins.items() if k.split("@")[0] == "switchboard" and v] if isinstance(plugins, dict) else []
    )
    if enabled:
        yield Check("plugin", True, f"Claude Code plugin enabled: {', '.join(enabled)}")
        places.append("plugin")
        commands.add("plugin")
    if not places:
        fix = "run: switchboard install --project . (this project) or switchboard install --user (every project)"
        yield Check("installed", False, "switchboard's hooks are in no Claude Code settings: nothing is captured", fix)
    elif len(commands) > 1 and _dogfood(ctx) and len(commands - {_DOGFOOD_COMMAND}) <= 1:
        detail = (
            f"this is switchboard's own checkout: its .claude/settings.json runs {_DOGFOOD_COMMAND.split()[0]} "
            f"beside the hooks in {', '.join(p for p in places if p != 'shared')}"
        )
        hint = "sessions in this checkout are captured by both; other projects are not affected"
        yield Check("installed", True, detail, hint)
    elif len(commands) > 1:
        fix = "keep one: switchboard uninstall --project . or switchboard uninstall --user (or disable the plugin)"
        detail = f"different capture hooks in {', '.join(places)}: Claude Code runs each, so events are captured twice"
        yield Check("installed", False, detail, fix)


_DOGFOOD_COMMAND = '"$CLAUDE_PROJECT_DIR"/hooks/capture.sh # switchboard'


def _dogfood(ctx: DoctorContext) -> bool:
    """Whether the project is the checkout switchboard runs from (its own .claude/ captures the work on it)."""
    checkout = Path(__file__).resolve().parents[2]
    return ctx.project.resolve() == checkout and (checkout / "hooks" / "capture.sh").is_file()


def _mcp_check(target: Target, settings: dict[str, Any]) -> Check:
    name = f"mcp server ({target.scope})"
    if target.scope == "shared":
        local_file = target.settings_file.with_name("settings.local.json")
        for path, data in ((target.settings_file, settings), (local_file, _read_json(local_file) or {})):
            if "switchboard" in (data.get("disabledMcpjsonServers") or []):
                fix = f'remove "switchboard" from disabledMcpjsonServers in {path}'
                return Check(name, False, f"registered in {target.mcp_file} but rejected in {path}", fix)
        approved = settings.get("enableAllProjectMcpServers") is True or "switchboard" in (
            settings.get("enabledMcpjsonServers") or []
        )
        if not approved:
            detail = f"registered in {target.mcp_file} but not approved in {target.settings_file}: Claude Code will ask"
            fix = f"run: switchboard install --project {target.mcp_file.parent} --shared"
            return Check(name, False, detail, fix)
    where = f" for {target.directory}" if target.scope == "project" else ""
    return Check(name, True, f"registered in {target.mcp_file}{where}")


def _dir_arg(target: Target, ctx: DoctorContext) -> str:
    return {"project": f" {ctx.project}", "shared": f" {ctx.project} --shared"}.get(target.scope, "")


def check_hook_scripts(ctx: DoctorContext) -> Iterable[Check]:
    """Every script a registered hook runs exists and is executable; portable hooks find ``switchboard``."""
    scripts: set[str] = set()
    portable = False
    for target in _targets(ctx):
        for commands in _our_hook_commands(_read_json(target.settings_file) or {}).values():
            for command in commands:
                words = shlex.split(
                    os.path.expandvars(command.replace("$CLAUDE_PROJECT_DIR", str(ctx.project))), comments=True
                )
                scripts.update(w for w in words[:2] if w.startswith("/"))
                portable = portable or words[:1] == ["switchboard"]
    if portable and shutil.which("switchboard") is None:
        detail = "shared project settings run `switchboard` from PATH, and it is not on PATH"
        fix = f"install it with: pipx install {_source()} (or: uv tool install {_source()})"
        yield Check("switchboard on PATH", False, detail, fix)
    try:
        scripts.add(str(hooks_dir() / "capture.sh"))
    except FileNotFoundError as exc:
        yield Check("capture.sh", False, str(exc), "reinstall switchboard: pip install --force-reinstall switchboard")
    for script in sorted(scripts):
        path = Path(script)
        if not path.exists():
            fix = "run switchboard install again (it writes the current paths), or reinstall switchboard"
            yield Check("hook script", False, f"{path} does not exist", fix)
        elif not os.access(path, os.X_OK):
            yield Check("hook script", False, f"{path} is not executable", f"run: chmod +x {shlex.quote(script)}")
        else:
            yield Check("hook script", True, f"{path} exists and is executable")


def _server_entries(ctx: DoctorContext) -> Iterable[tuple[Target, dict[str, Any]]]:
    for target in _targets(ctx):
        node: Any = _read_json(target.mcp_file) or {}
        for key in (*target.mcp_path, "switchboard"):
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            yield target, node


def check_launcher(ctx: DoctorContext) -> Iterable[Check]:
    """The registered MCP command still runs something that exists (a moved checkout breaks it silently)."""
    for target, entry in _server_entries(ctx):
        argv = [str(entry.get("command", "")), *(str(a) for a in entry.get("args") or [])]
        paths = [word for word in argv if word.startswith("/")]
        missing = [path for path in paths if not Path(path).exists()]
        if missing:
            detail = f"the {target.scope} MCP server in {target.mcp_file} runs {missing[0]}, which does not exist"
            fix = f"run switchboard install again from where switchboard is now ({_install_args(target, ctx)})"
            yield Check(f"launcher ({target.scope})", False, detail, fix)
        elif paths:
            yield Check(f"launcher ({target.scope})", True, f"{Path(paths[-1]).name} and what it runs exist")


def _install_args(target: Target, ctx: DoctorContext) -> str:
    return "switchboard install " + {"user": "--user"}.get(target.scope, f"--project{_dir_arg(target, ctx)}")


def check_service(ctx: DoctorContext) -> Iterable[Check]:
    """The warm service: running or not, its pid, port and build stamp (against this install's)."""
    from server.service.status import query_status
    from server.service.wire import build_stamp, run_dir

    status = query_status(ctx.settings.home, timeout_s=1.0)
    if not status.get("running"):
        yield Check("service", True, "not running; the first Claude Code session or `switchboard dashboard` starts it")
        return
    stamp = status.get("stamp")
    ours = build_stamp()
    same = "this install's" if stamp == ours else f"not this install's {ours}: it retires when a new session starts"
    detail = f"running, pid {status.get('pid')}, port {status.get('port')}, build stamp {stamp} ({same})"
    if status.get("port") is None:
        fix = f"another program holds the dashboard port; see {run_dir(ctx.settings.home) / 'service.log'}"
        yield Check("service", False, f"{detail}: no dashboard and no OTLP receiver", fix)
    else:
        yield Check("service", True, detail)


def check_capture_runs(ctx: DoctorContext) -> Iterable[Check]:
    """capture.sh really spools an event: run it on a probe payload into a throwaway home, and time it."""
    try:
        capture = hooks_dir() / "capture.sh"
    except FileNotFoundError:
        return  # check_hook_scripts already says so
    with tempfile.TemporaryDirectory(prefix="switchboard-doctor-") as tmp:
        env = {**os.environ, "SWITCHBOARD_HOME": tmp}
        started = time.perf_counter()
        try:
            subprocess.run([str(capture)], input=_PROBE, env=env, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            yield Check("capture", False, f"{capture} did not run: {exc}", f"run: chmod +x {shlex.quote(str(capture))}")
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        written = [p.read_bytes() for p in (Path(tmp) / "spool" / "new").glob("*")]
    if written != [_PROBE]:
        fix = f"run it by hand: echo '{{}}' | SWITCHBOARD_HOME=/tmp/sb-probe {capture}; it needs sh, mktemp, cat and mv"
        yield Check("capture", False, f"{capture} ran but spooled no event", fix)
    else:
        yield Check("capture", True, f"{capture.name} spooled a probe event in {elapsed_ms:.0f} ms")


def check_spool(ctx: DoctorContext) -> Iterable[Check]:
    """Where events are spooled, how many wait for ingest, and how many could not be read."""
    spool = Spool(ctx.settings.spool_dir)
    yield Check("home", True, f"state in {ctx.settings.home} (set SWITCHBOARD_HOME to move it)")
    pending = spool.pending()
    oldest = time.time() - pending[0].mtime_ns / 1e9 if pending else 0.0
    detail = f"{len(pending)} events wait in {spool.new}"
    if oldest > STUCK_AFTER_S:
        fix = "run: switchboard ingest (and check that Claude Code's SessionEnd hook can start it)"
        yield Check("spool", False, f"{detail}, the oldest for {oldest / 3600:.1f} h: nothing is ingesting", fix)
    else:
        yield Check("spool", True, detail)
    try:
        quarantined = [p for p in spool.quarantine_dir.iterdir() if not p.name.endswith(".reason")]
    except FileNotFoundError:
        quarantined = []
    if quarantined:
        fix = f"read the .reason files in {spool.quarantine_dir}; delete the events, or move fixed ones to {spool.new}"
        yield Check("quarantine", False, f"{len(quarantined)} events could not be read", fix)
    else:
        yield Check("quarantine", True, "no quarantined events")


def check_last_ingest(ctx: DoctorContext) -> Iterable[Check]:
    """Whether the last ingest recorded in ``logs/ingest.log`` succeeded (the SessionEnd one runs unseen)."""
    log = ctx.settings.log_dir / "ingest.log"
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-500:]
    except FileNotFoundError:
        yield Check("last ingest", True, f"no ingest has run yet (its log will be {log})")
        return
    last = next((m for m in map(_LOG_RECORD.match, reversed(lines)) if m), None)
    if last is not None and last[1] in ("ERROR", "CRITICAL"):
        fix = f"read the end of {log}; then run: switchboard ingest"
        yield Check("last ingest", False, f"the last ingest failed: {last.string[:200]}", fix)
    else:
        yield Check("last ingest", True, f"the last ingest in {log} succeeded")


def check_database(ctx: DoctorContext) -> Iterable[Check]:
    """The store is reachable and its schema is at the newest migration (doctor never creates or migrates)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from server.store.database import _alembic_config, make_engine

    url = make_url(ctx.settings.resolved_database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        yield Check("database", True, f"{shown} does not exist yet; the first ingest creates it")
        return
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        fix = "check SWITCHBOARD_DATABASE_URL, and that the database server is running and reachable"
        yield Check("database", False, f"cannot reach {shown}: {type(exc).__name__}", fix)
        return
    finally:
        engine.dispose()
    if current is not None and current != head and not _known_revision(engine, current):
        fix = "upgrade switchboard on this machine (pip install -U switchboard): another one migrated the store"
        yield Check("database", False, f"the store's schema is newer than this switchboard: upgrade ({current})", fix)
    elif current == head:
        yield Check("database", True, f"{shown} is at the latest migration ({head})")
        yield from _sessions_check(url.render_as_string(hide_password=False))
    else:
        fix = "run: switchboard ingest (it migrates the store first)"
        yield Check("database", False, f"{shown} is at migration {current or 'none'}, the latest is {head}", fix)


def _known_revision(engine: Any, revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.script.revision import ResolutionError
    from alembic.util import CommandError

    from server.store.database import _alembic_config

    try:
        ScriptDirectory.from_config(_alembic_config(engine)).get_revision(revision)
    except (ResolutionError, CommandError):
        return False
    return True


def _sessions_check(url: str) -> Iterable[Check]:
    from sqlmodel import Session, func, select

    from server.store.database import make_engine
    from server.store.models import AgentSession, TranscriptMark

    engine = make_engine(url)
    try:
        with Session(engine) as db:
            count = db.exec(select(func.count()).select_from(AgentSession)).one()
            skipped: dict[str, int] = {}
            for reasons in db.exec(select(TranscriptMark.skipped)):
                for reason, n in reasons.items():
                    skipped[reason] = skipped.get(reason, 0) + int(n)
    finally:
        engine.dispose()
    if skipped:
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
        yield Check("transcript lines", True, f"{sum(skipped.values())} usage lines skipped as unusable: {detail}")
    if count:
        yield Check("sessions", True, f"{plural(count, 'session')} in the store")
    else:  # day one: a hint, not a problem
        hint = "run: switchboard import (reads the sessions Claude Code already ran, from ~/.claude/projects)"
        yield Check("sessions", True, "the store has no sessions yet", hint)


def check_config(ctx: DoctorContext) -> Iterable[Check]:
    """The config file in force is found and valid; a project config found and not trusted is named, with the
    command that trusts it (its providers are never probed: ``check_providers`` reads the config in force)."""
    try:
        config = load_config(ctx.settings, ctx.project)
    except ConfigError as exc:
        yield Check("config", False, str(exc), "fix the file, or point SWITCHBOARD_CONFIG at a valid one")
        return
    if config.ignored_notice is not None:
        fix = f"read it, then: switchboard trust {ctx.project}" if "not trusted" in config.ignored_notice else None
        yield Check("project config", False, config.ignored_notice.removeprefix("switchboard: "), fix)
    if config.source is None:
        yield Check("config", True, "no config file: defaults (no providers); create .switchboard.toml to add some")
    else:
        enabled = sum(1 for provider in config.providers.values() if provider.enabled)
        disabled = len(config.providers) - enabled
        counts = plural(enabled, "provider") + (f", {disabled} disabled" if disabled else "")
        yield Check("config", True, f"{config.source} is valid ({counts})")


def check_agent_logs(ctx: DoctorContext) -> Iterable[Check]:
    """Lines of Codex / Gemini CLI logs that import did not understand, per CLI version."""
    from server.doctor.agents import agent_log_checks

    yield from agent_log_checks(ctx)


CHECKS: list[CheckFunction] = [
    check_installation,
    check_hook_scripts,
    check_launcher,
    check_service,
    check_capture_runs,
    check_spool,
    check_last_ingest,
    check_database,
    check_config,
    check_providers,
    check_agent_logs,
]
"""The checks ``switchboard doctor`` runs, in order; append a function to add one."""


def run_checks(ctx: DoctorContext | None = None, checks: Iterable[CheckFunction] | None = None) -> list[Check]:
    """Run ``checks`` (default :data:`CHECKS`); a check that crashes becomes a failed :class:`Check`."""
    ctx = ctx or DoctorContext()
    results: list[Check] = []
    for check in checks if checks is not None else CHECKS:
        try:
            results.extend(check(ctx))
        except Exception as exc:  # a broken check must not hide the others' findings
            name = check.__name__.removeprefix("check_")
            results.append(
                Check(name, False, f"the check crashed: {type(exc).__name__}: {exc}", "report this as a bug")
            )
    return results


def _source() -> str:
    """What to hand pipx: this checkout when switchboard runs from one (the name on PyPI is another project's)."""
    checkout = Path(__file__).resolve().parents[2]
    return str(checkout) if (checkout / "pyproject.toml").is_file() else "switchboard"
