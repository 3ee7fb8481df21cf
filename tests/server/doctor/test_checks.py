"""``switchboard doctor`` says what is installed where and names a fix for each problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.doctor import CHECKS, Check, DoctorContext, check_hook_scripts, run_checks
from server.install import MARK, Target, hook_entries, install
from server.settings import Settings
from server.trust import trust

REPO = Path(__file__).resolve().parents[3]
SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"


@pytest.fixture
def ctx(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DoctorContext:
    """A project folder and a user home with nothing installed; no database URL from outside leaks in."""
    monkeypatch.delenv("SWITCHBOARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    project = tmp_path / "proj"
    project.mkdir()
    user_home = tmp_path / "user"
    user_home.mkdir()
    return DoctorContext(settings=Settings(), project=project, user_home=user_home)


def _project_config(ctx: DoctorContext, text: str) -> Path:
    """Write the project's config and trust it, as its author would."""
    path = ctx.project / ".switchboard.toml"
    path.write_text(text)
    trust(str(path))
    return path


def _named(checks: Iterable[Check], name: str) -> list[Check]:
    return [c for c in checks if c.name == name]


def _spool_files(folder: Path, count: int, age_s: float = 0.0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.time() - age_s
    for i in range(count):
        path = folder / f"event{i:04d}"
        path.write_text('{"hook_event_name": "Stop"}')
        os.utime(path, (stamp, stamp))


def test_nothing_installed_is_a_problem_whose_fix_is_install(ctx: DoctorContext) -> None:
    [installed] = _named(run_checks(ctx), "installed")
    assert not installed.ok
    assert installed.fix and "switchboard install --project" in installed.fix


def test_a_project_install_is_reported_with_its_settings_file_and_mcp_server(ctx: DoctorContext) -> None:
    install(Target.project(ctx.project, home=ctx.user_home))
    checks = run_checks(ctx)
    [hooks] = _named(checks, "hooks (project)")
    assert hooks.ok and str(ctx.project / ".claude" / "settings.local.json") in hooks.detail
    [server] = _named(checks, "mcp server (project)")
    assert server.ok
    assert not _named(checks, "installed")
    assert all(c.ok for c in _named(checks, "hook script"))


def test_the_same_hooks_in_user_and_project_settings_are_fine_as_claude_code_runs_them_once(
    ctx: DoctorContext,
) -> None:
    install(Target.project(ctx.project, home=ctx.user_home))
    install(Target.user(ctx.user_home))
    checks = run_checks(ctx)
    assert [c.ok for c in _named(checks, "hooks (project)") + _named(checks, "hooks (user)")] == [True, True]
    assert not _named(checks, "installed")


def test_different_capture_hooks_in_two_places_warn_of_double_capture(ctx: DoctorContext) -> None:
    install(Target.project(ctx.project, home=ctx.user_home))
    user = Target.user(ctx.user_home)
    user.settings_file.parent.mkdir(parents=True)
    other = hook_entries("/other/install/hooks/capture.sh", ["/other/bin/switchboard", "ingest"])
    user.settings_file.write_text(json.dumps({"hooks": other}))
    [installed] = _named(run_checks(ctx), "installed")
    assert not installed.ok and "captured twice" in installed.detail
    assert installed.fix and "uninstall" in installed.fix


def test_in_the_home_folder_the_user_settings_are_not_counted_twice(ctx: DoctorContext) -> None:
    install(Target.user(ctx.user_home))
    ctx.project = ctx.user_home
    checks = run_checks(ctx)
    assert [c.name for c in checks if c.name.startswith("hooks (")] == ["hooks (user)"]
    assert not _named(checks, "installed")


def test_an_unapproved_shared_mcp_server_is_a_problem(ctx: DoctorContext) -> None:
    target = Target.project(ctx.project, home=ctx.user_home, shared=True)
    install(target)
    settings = json.loads(target.settings_file.read_text())
    del settings["enabledMcpjsonServers"]
    target.settings_file.write_text(json.dumps(settings))
    [server] = _named(run_checks(ctx), "mcp server (shared)")
    assert not server.ok and "will ask" in server.detail


def test_a_missing_hook_script_is_named_with_a_fix(ctx: DoctorContext) -> None:
    target = Target.project(ctx.project, home=ctx.user_home)
    target.settings_file.parent.mkdir(parents=True)
    command = f"/nowhere/hooks/capture.sh {MARK}"
    target.settings_file.write_text(
        json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": command}]}]}})
    )
    [missing] = [c for c in _named(run_checks(ctx), "hook script") if not c.ok]
    assert "/nowhere/hooks/capture.sh does not exist" in missing.detail
    assert missing.fix and "install" in missing.fix


def test_a_hook_script_that_is_not_executable_gets_a_chmod_fix(ctx: DoctorContext, tmp_path: Path) -> None:
    script = tmp_path / "capture.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    target = Target.project(ctx.project, home=ctx.user_home)
    target.settings_file.parent.mkdir(parents=True)
    hook = {"type": "command", "command": f"{script} {MARK}"}
    target.settings_file.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [hook]}]}}))
    [bad] = [c for c in _named(run_checks(ctx), "hook script") if not c.ok]
    assert bad.fix == f"run: chmod +x {script}"


def test_waiting_and_quarantined_events_are_counted(ctx: DoctorContext) -> None:
    _spool_files(ctx.settings.spool_dir / "new", 3)
    _spool_files(ctx.settings.spool_dir / "quarantine", 2)
    (ctx.settings.spool_dir / "quarantine" / "event0000.reason").write_text("not JSON")
    checks = run_checks(ctx)
    [spool] = _named(checks, "spool")
    assert spool.ok and spool.detail.startswith("3 events wait")
    [quarantine] = _named(checks, "quarantine")
    assert not quarantine.ok and quarantine.detail.startswith("2 events")
    assert quarantine.fix and ".reason" in quarantine.fix


def test_events_waiting_for_hours_mean_nothing_is_ingesting(ctx: DoctorContext) -> None:
    _spool_files(ctx.settings.spool_dir / "new", 1, age_s=3 * 3600)
    [spool] = _named(run_checks(ctx), "spool")
    assert not spool.ok and "nothing is ingesting" in spool.detail
    assert spool.fix and "switchboard ingest" in spool.fix


def test_a_store_at_the_latest_migration_passes(ctx: DoctorContext, settings: Settings, engine: Engine) -> None:
    ctx.settings = settings
    [database] = _named(run_checks(ctx), "database")
    assert database.ok and "latest migration" in database.detail


def test_a_store_without_migrations_is_a_problem(ctx: DoctorContext, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    ctx.settings = Settings(database_url=f"sqlite:///{empty}")
    [database] = _named(run_checks(ctx), "database")
    assert not database.ok and "migration none" in database.detail


def test_an_unreachable_database_is_reported_without_its_password(ctx: DoctorContext) -> None:
    ctx.settings = Settings(database_url="postgresql+psycopg://sb:s3cret@127.0.0.1:1/sb?connect_timeout=2")
    [database] = _named(run_checks(ctx), "database")
    assert not database.ok and "cannot reach" in database.detail
    assert "s3cret" not in database.detail


def test_an_invalid_config_file_is_a_problem_and_a_valid_one_is_named(ctx: DoctorContext) -> None:
    config = _project_config(ctx, "[providers.x]\nkind = 'nonsense'\n")
    [bad] = _named(run_checks(ctx), "config")
    assert not bad.ok and str(config) in bad.detail
    _project_config(ctx, "[providers.local]\nbase_url = 'http://127.0.0.1:1/v1'\n")
    [good] = _named(run_checks(ctx), "config")
    assert good.ok and good.detail.endswith("is valid (1 provider)")


def test_an_appended_check_runs_and_a_crashing_one_becomes_a_failure(ctx: DoctorContext) -> None:
    def check_extra(_: DoctorContext) -> Iterable[Check]:
        yield Check("extra", True, "fine")

    def check_broken(_: DoctorContext) -> Iterable[Check]:
        raise RuntimeError("boom")

    checks = run_checks(ctx, [*CHECKS, check_extra, check_broken])
    assert _named(checks, "extra") == [Check("extra", True, "fine")]
    [broken] = _named(checks, "broken")
    assert not broken.ok and "boom" in broken.detail


def test_the_command_exits_non_zero_on_a_problem_and_zero_when_all_is_well(ctx: DoctorContext) -> None:
    env = {**os.environ, "HOME": str(ctx.user_home), "SWITCHBOARD_HOME": str(ctx.settings.home)}
    argv = [str(SWITCHBOARD), "doctor", "--project", str(ctx.project)]
    failing = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert failing.returncode == 1 and "fix: run: switchboard install" in failing.stdout
    install(Target.project(ctx.project, home=ctx.user_home))
    _project_config(ctx, '[providers.echo]\nkind = "cli"\ncommand = ["true", "{prompt}"]\n')
    passing = subprocess.run([*argv, "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert passing.returncode == 0, passing.stdout
    assert all(check["ok"] for check in json.loads(passing.stdout))


def test_a_failed_last_ingest_is_reported_and_a_later_success_clears_it(ctx: DoctorContext) -> None:
    log = ctx.settings.log_dir / "ingest.log"
    log.parent.mkdir(parents=True)
    failed = (
        "2026-11-21 07:28:55,685 7239 ERROR server.commands.ingest: ingest failed\nTraceback (most recent call last):\n"
    )
    log.write_text(failed)
    [last] = _named(run_checks(ctx), "last ingest")
    assert not last.ok and "ingest failed" in last.detail
    assert last.fix and str(log) in last.fix
    log.write_text(failed + "2026-11-21 07:30:00,000 7240 INFO server.store.background: ingested 5 events\n")
    [last] = _named(run_checks(ctx), "last ingest")
    assert last.ok


def test_a_shared_mcp_server_rejected_in_local_settings_is_a_problem(ctx: DoctorContext) -> None:
    target = Target.project(ctx.project, home=ctx.user_home, shared=True)
    install(target)
    local = target.settings_file.with_name("settings.local.json")
    local.write_text(json.dumps({"disabledMcpjsonServers": ["switchboard"]}))
    [server] = _named(run_checks(ctx), "mcp server (shared)")
    assert not server.ok and str(local) in server.detail
    assert server.fix and "disabledMcpjsonServers" in server.fix


def test_the_capture_script_is_run_on_a_probe_event_that_lands_in_a_throwaway_spool(ctx: DoctorContext) -> None:
    [capture] = _named(run_checks(ctx), "capture")
    assert capture.ok and "spooled a probe event" in capture.detail
    assert not ctx.settings.spool_dir.exists(), "the real spool is not touched"


def test_a_capture_script_that_cannot_spool_is_a_problem(
    ctx: DoctorContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no mktemp, cat or mv
    [capture] = _named(run_checks(ctx), "capture")
    assert not capture.ok and "spooled no event" in capture.detail
    assert capture.fix and "mktemp" in capture.fix


def test_no_provider_configured_is_a_warning_whose_fix_is_init(ctx: DoctorContext) -> None:
    [providers] = _named(run_checks(ctx), "providers")
    assert not providers.ok and providers.fix and "switchboard init" in providers.fix


def test_a_task_type_key_that_is_no_task_type_is_named(ctx: DoctorContext) -> None:
    text = '[providers.echo]\nkind = "cli"\ncommand = ["true"]\n[routing.task_types]\ncoding = ["echo:x"]\n'
    _project_config(ctx, text)
    # The config itself refuses the key now (server/config_errors.py), naming the line and the valid types.
    [config] = _named(run_checks(ctx), "config")
    assert not config.ok and "line 5: routing.task_types has the key 'coding'" in config.detail
    assert "code_fix" in config.detail


def test_a_route_entry_naming_a_model_its_provider_does_not_list_is_a_problem(ctx: DoctorContext) -> None:
    # Before: `default = ["acme:ok-aa", ...]` passed as valid, and delegate kept the entry as a candidate.
    _project_config(
        ctx,
        '[providers.acme]\nkind = "cli"\ncommand = ["true"]\nmodels = ["ok-a", "ok-b"]\n'
        '[routing]\ndefault = ["acme:ok-aa", "acme:ok-b"]\n',
    )
    [routing] = _named(run_checks(ctx), "routing")
    assert not routing.ok and "acme:ok-aa" in routing.detail and "models" in routing.detail
    assert routing.fix and "ok-a, ok-b" in routing.fix


def test_an_empty_store_is_a_hint_to_import_not_a_problem(ctx: DoctorContext, engine: Engine) -> None:
    [sessions] = _named(run_checks(ctx), "sessions")
    assert sessions.ok and sessions.fix and "switchboard import" in sessions.fix
    assert sessions.detail == "the store has no sessions yet"


def test_a_disabled_provider_is_not_counted_as_one(ctx: DoctorContext) -> None:
    _project_config(
        ctx,
        '[providers.echo]\nkind = "cli"\ncommand = ["true"]\nenabled = false\n'
        '[providers.cat]\nkind = "cli"\ncommand = ["cat"]\n',
    )
    [config] = _named(run_checks(ctx), "config")
    assert config.ok and config.detail.endswith("is valid (1 provider, 1 disabled)")


def test_the_checkouts_own_claude_folder_beside_a_user_install_is_not_a_failure(ctx: DoctorContext) -> None:
    install(Target.user(ctx.user_home))
    ctx.project = REPO
    checks = run_checks(ctx)
    [installed] = _named(checks, "installed")
    assert installed.ok and "switchboard's own checkout" in installed.detail
    assert _named(checks, "hooks (shared)")[0].ok


def test_the_config_init_writes_is_valid_and_lists_every_section_and_preset(tmp_path: Path) -> None:
    from server.catalog.presets import PRESETS
    from server.config import load_config
    from server.config_template import config_template

    config_file = tmp_path / "c.toml"
    config_file.write_text(config_template())
    config = load_config(Settings(config=config_file))
    assert config.providers["local"].base_url == "http://127.0.0.1:11434/v1" and not config.providers["local"].enabled
    text = config_template()
    sections = ("routing", "routing.task_types", "resilience", "budgets", "cache", "output", "context", "dashboard")
    assert all(f"[{section}]" in text for section in sections)
    assert all(name in text for name in PRESETS) and "switchboard[groq]" in text


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    argv = [str(SWITCHBOARD), "init", "--project", str(tmp_path)]
    assert subprocess.run(argv, capture_output=True, timeout=60).returncode == 0
    written = tmp_path / ".switchboard.toml"
    written.write_text("# mine\n")
    again = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already exists" in again.stderr and written.read_text() == "# mine\n"
    assert subprocess.run([*argv, "--force"], capture_output=True, timeout=60).returncode == 0
    assert written.read_text().startswith("# switchboard config")


def test_a_preset_whose_sdk_is_missing_names_the_extra_to_install(
    ctx: DoctorContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "groq", None)  # what `import groq` meets without the extra
    monkeypatch.setenv("GROQ_API_KEY", "gsk-doctor-test")
    _project_config(ctx, "[providers.groq]\n")
    [groq] = _named(run_checks(ctx), "provider groq")
    assert not groq.ok and groq.fix == "pip install 'switchboard[groq]'"


def test_shared_hooks_with_switchboard_missing_from_path_are_a_problem(
    ctx: DoctorContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install(Target.project(ctx.project, home=ctx.user_home, shared=True))
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    [missing] = _named(run_checks(ctx, [check_hook_scripts]), "switchboard on PATH")
    assert not missing.ok and missing.fix and f"pipx install {REPO}" in missing.fix
    monkeypatch.setenv("PATH", str(SWITCHBOARD.parent))
    assert _named(run_checks(ctx, [check_hook_scripts]), "switchboard on PATH") == []


def test_a_launcher_left_behind_by_a_moved_checkout_is_a_problem_whose_fix_is_install(ctx: DoctorContext) -> None:
    install(Target.user(ctx.user_home))
    [ok] = _named(run_checks(ctx), "launcher (user)")
    assert ok.ok
    claude_json = ctx.user_home / ".claude.json"
    data = json.loads(claude_json.read_text())
    entry = data["mcpServers"]["switchboard"]
    entry["args"] = [arg.replace(str(REPO), "/moved/away") for arg in entry["args"]]
    claude_json.write_text(json.dumps(data))
    [moved] = _named(run_checks(ctx), "launcher (user)")
    assert not moved.ok and "/moved/away/hooks/launcher.py, which does not exist" in moved.detail
    assert moved.fix and "switchboard install --user" in moved.fix


def test_doctor_says_the_service_is_not_running_without_calling_it_a_problem(ctx: DoctorContext) -> None:
    [service] = _named(run_checks(ctx), "service")
    assert service.ok and service.detail.startswith("not running")
