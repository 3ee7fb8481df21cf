"""``switchboard install`` / ``uninstall`` merge into Claude Code's settings and take out exactly their own part."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.install import (
    MARK,
    SERVER_NAME,
    InstallError,
    Target,
    hook_entries,
    hooks_dir,
    install,
    is_ours,
    switchboard_command,
    uninstall,
)
from server.service.otel_settings import otlp_secret
from server.store.hook_events import CAPTURE_EVENTS, HOOK_EVENTS

pytestmark = pytest.mark.usefixtures("home")

REPO = Path(__file__).resolve().parents[2]
SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"

USER_SETTINGS: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/local/bin/guard"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
    "enabledMcpjsonServers": ["github"],
}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _claude_style(data: dict[str, Any]) -> str:
    """How Claude Code writes its JSON files (``JSON.stringify(data, null, 2)``)."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def _project(tmp_path: Path, settings: dict[str, Any] | None = None, shared: bool = False) -> Target:
    target = Target.project(tmp_path / "proj", home=tmp_path / "user", shared=shared)
    target.settings_file.parent.mkdir(parents=True)
    (tmp_path / "user").mkdir(exist_ok=True)
    if settings is not None:
        target.settings_file.write_text(json.dumps(settings), encoding="utf-8")
    return target


def _our_commands(settings: dict[str, Any]) -> dict[str, list[str]]:
    return {
        event: [h["command"] for group in groups for h in group["hooks"] if is_ours(h["command"])]
        for event, groups in settings.get("hooks", {}).items()
    }


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def test_install_registers_capture_for_every_event_but_worktree_create(tmp_path: Path) -> None:
    target = _project(tmp_path)
    install(target)
    commands = _our_commands(_load(target.settings_file))
    assert set(commands) == set(HOOK_EVENTS) - {"WorktreeCreate"}
    capture = str(hooks_dir() / "capture.sh")
    for event, event_commands in commands.items():
        assert len(event_commands) == 1, event
        assert shlex.split(event_commands[0], comments=True)[0] == capture


def test_install_writes_absolute_paths_and_session_end_starts_ingest(tmp_path: Path) -> None:
    target = _project(tmp_path)
    install(target)
    [session_end] = _our_commands(_load(target.settings_file))["SessionEnd"]
    argv = shlex.split(session_end, comments=True)
    assert all(Path(word).is_absolute() for word in argv[:2])
    assert Path(argv[0]).name == "capture.sh" and argv[-1] == "ingest"
    assert os.access(argv[1], os.X_OK)


def test_install_keeps_the_users_hooks_and_settings(tmp_path: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS, shared=True)
    install(target)
    settings = _load(target.settings_file)
    assert settings["model"] == "opus" and settings["permissions"] == USER_SETTINGS["permissions"]
    assert settings["hooks"]["PreToolUse"][0] == USER_SETTINGS["hooks"]["PreToolUse"][0]
    assert settings["hooks"]["Stop"][0] == USER_SETTINGS["hooks"]["Stop"][0]
    assert settings["enabledMcpjsonServers"] == ["github", SERVER_NAME]


def test_installing_twice_gives_the_same_files_and_no_second_backup(tmp_path: Path, home: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS)
    assert install(target) == [target.settings_file, target.mcp_file]
    first = (target.settings_file.read_text(), target.mcp_file.read_text())
    backups = sorted((home / "backups").rglob("*"))
    assert install(target) == []
    assert (target.settings_file.read_text(), target.mcp_file.read_text()) == first
    assert sorted((home / "backups").rglob("*")) == backups


def test_install_backs_up_changed_files_under_switchboard_home_not_beside_them(tmp_path: Path, home: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS)
    original = target.settings_file.read_text()
    install(target)
    [backup] = [p for p in (home / "backups").rglob("*") if p.is_file()]
    assert backup.read_text() == original
    assert [p.name for p in target.settings_file.parent.iterdir()] == ["settings.local.json"]


def _runs_the_launcher(entry: dict[str, Any]) -> bool:
    """The registered command is the stdlib launcher, isolated (-I -S), given the absolute switchboard command."""
    command, args = entry["command"], entry["args"]
    return (
        Path(command).is_absolute()
        and args[:2] == ["-I", "-S"]
        and Path(args[2]).name == "launcher.py"
        and Path(args[2]).is_file()
        and Path(args[3]).is_absolute()
    )


def test_a_project_install_keeps_machine_paths_out_of_the_files_a_team_commits(tmp_path: Path) -> None:
    target = _project(tmp_path)
    committed = json.dumps(USER_SETTINGS)
    target.settings_file.with_name("settings.json").write_text(committed)
    install(target)
    assert target.settings_file.name == "settings.local.json"
    assert target.settings_file.with_name("settings.json").read_text() == committed
    assert not (tmp_path / "proj" / ".mcp.json").exists()
    state = _load(tmp_path / "user" / ".claude.json")
    entry = state["projects"][str((tmp_path / "proj").resolve())]["mcpServers"][SERVER_NAME]
    assert _runs_the_launcher(entry)


def test_a_shared_install_writes_portable_entries_with_no_absolute_path(tmp_path: Path) -> None:
    target = _project(tmp_path, shared=True)
    install(target, context_pressure=True)
    text = target.settings_file.read_text() + target.mcp_file.read_text()
    assert str(tmp_path) not in text and "/" not in text.replace("//", "")
    entry = _load(target.mcp_file)["mcpServers"][SERVER_NAME]
    assert (entry["command"], entry["args"]) == ("switchboard", ["serve"])
    [session_end] = _our_commands(_load(target.settings_file))["SessionEnd"]
    assert shlex.split(session_end, comments=True) == ["switchboard", "capture", "switchboard", "ingest"]
    assert _load(target.settings_file)["enabledMcpjsonServers"] == [SERVER_NAME]


def test_the_shared_hook_command_spools_an_event_through_capture_sh(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"PATH": f"{SWITCHBOARD.parent}:/usr/bin:/bin", "SWITCHBOARD_HOME": str(state)}
    done = subprocess.run(
        ["sh", "-c", f"switchboard capture {MARK}"], input=b'{"hook_event_name": "Stop"}', env=env, timeout=60
    )
    assert done.returncode == 0
    assert [p.read_bytes() for p in (state / "spool" / "new").iterdir()] == [b'{"hook_event_name": "Stop"}']


def test_user_scope_registers_the_server_in_claude_json_and_keeps_its_other_state(tmp_path: Path) -> None:
    target = Target.user(tmp_path)
    (tmp_path / ".claude.json").write_text(json.dumps({"numStartups": 4, "projects": {"/x": {}}}))
    install(target)
    state = _load(tmp_path / ".claude.json")
    assert state["numStartups"] == 4 and state["projects"] == {"/x": {}}
    assert _runs_the_launcher(state["mcpServers"][SERVER_NAME])
    assert "enabledMcpjsonServers" not in _load(tmp_path / ".claude" / "settings.json")


def test_uninstall_removes_exactly_what_install_added(tmp_path: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS, shared=True)
    target.mcp_file.write_text(json.dumps({"mcpServers": {"github": {"command": "gh-mcp"}}}))
    install(target, context_pressure=True)
    assert uninstall(target) == [target.settings_file, target.mcp_file]
    assert _load(target.settings_file) == USER_SETTINGS
    assert _load(target.mcp_file) == {"mcpServers": {"github": {"command": "gh-mcp"}}}


def test_uninstall_leaves_the_project_folder_exactly_as_it_was_found(tmp_path: Path, home: Path) -> None:
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print(1)\n")
    before = _tree(project)
    for shared in (False, True):
        target = Target.project(project, home=tmp_path / "user", shared=shared)
        install(target)
        assert (project / ".claude").is_dir()
        uninstall(target)
        assert _tree(project) == before
    assert not (tmp_path / "user" / ".claude.json").exists()
    assert list((home / "installs").iterdir()) == []


def test_uninstall_gives_back_the_users_own_switchboard_server_entry(tmp_path: Path) -> None:
    mine = {"command": "/opt/my-switchboard-fork", "args": ["serve", "--debug"], "timeout": 30000}
    for shared in (False, True):
        target = _project(tmp_path / str(shared), shared=shared)
        servers = {"mcpServers": {SERVER_NAME: mine}}
        content = {"projects": {str(target.directory): servers}} if not shared else servers
        target.mcp_file.write_text(_claude_style(content))
        original = target.mcp_file.read_text()
        install(target)
        assert _load(target.mcp_file) != json.loads(original)
        uninstall(target)
        assert target.mcp_file.read_text() == original


def test_uninstall_keeps_the_users_own_approval_and_an_empty_stop_list(tmp_path: Path) -> None:
    settings = {"enabledMcpjsonServers": [SERVER_NAME], "hooks": {"Stop": []}}
    target = _project(tmp_path, shared=True)
    target.settings_file.write_text(_claude_style(settings))
    install(target)
    assert _load(target.settings_file)["hooks"]["Stop"] != []
    uninstall(target)
    assert _load(target.settings_file) == settings


def test_uninstall_puts_back_a_rejection_install_lifted(tmp_path: Path) -> None:
    target = _project(tmp_path, {"disabledMcpjsonServers": ["switchboard", "other"]}, shared=True)
    install(target)
    settings = _load(target.settings_file)
    assert settings["disabledMcpjsonServers"] == ["other"] and SERVER_NAME in settings["enabledMcpjsonServers"]
    uninstall(target)
    assert _load(target.settings_file) == {"disabledMcpjsonServers": ["other", "switchboard"]}


CLAUDE_JSON = (
    '{\n  "numStartups": 12,\n  "tipsHistory": {\n    "a": 1.0,\n    "huge": 1e400,\n'
    '    "exact": 0.10000000000000000555,\n'
    '    "digits": ' + "9" * 5000 + ',\n    "neg": -0.0\n  },\n  "name": "café \\ud83d",\n'
    '  "emoji": "\U0001f600",\n  "projects": {}\n}'
)


def test_files_round_trip_byte_for_byte_numbers_and_escapes_included(tmp_path: Path) -> None:
    target = Target.user(tmp_path)
    target.settings_file.parent.mkdir()
    settings = '{\n    "model": "opus",\n    "cleanupPeriodDays": 1e3,\n    "env": {"A": "\\u00e9"}\n}\n'
    target.settings_file.write_text(settings, encoding="utf-8")
    target.mcp_file.write_text(CLAUDE_JSON, encoding="utf-8")
    install(target)
    state = target.mcp_file.read_text(encoding="utf-8")
    assert '"huge": 1e400' in state and '"digits": ' + "9" * 5000 in state and "\\ud83d" in state
    assert target.settings_file.read_text().startswith('{\n    "model": "opus",\n    "cleanupPeriodDays": 1e3,')
    uninstall(target)
    assert target.mcp_file.read_text(encoding="utf-8") == CLAUDE_JSON
    assert target.settings_file.read_text(encoding="utf-8") == settings


def test_a_symlinked_settings_file_stays_a_link_and_its_target_is_updated(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "claude-settings.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text(json.dumps(USER_SETTINGS))
    target = Target.user(tmp_path / "user")
    target.settings_file.parent.mkdir(parents=True)
    target.settings_file.symlink_to(dotfiles)
    install(target)
    assert target.settings_file.is_symlink() and target.settings_file.resolve() == dotfiles
    assert _our_commands(_load(dotfiles))
    uninstall(target)
    assert target.settings_file.is_symlink() and _load(dotfiles) == USER_SETTINGS


def test_when_one_file_cannot_be_written_neither_changes_and_the_message_says_why(tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / ".claude").mkdir(parents=True)
    (user / ".claude" / "settings.json").write_text(_claude_style(USER_SETTINGS))
    # Even root cannot make a folder in sysfs: ~/.claude.json links to a place nothing can be written.
    (user / ".claude.json").symlink_to("/sys/switchboard-test/claude.json")
    before = _tree(user)
    with pytest.raises(InstallError, match=r"cannot write /sys/switchboard-test \(.+\); neither file was changed"):
        install(Target.user(user))
    assert _tree(user) == before


def test_uninstall_without_install_changes_nothing(tmp_path: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS, shared=True)
    before = target.settings_file.read_text()
    assert uninstall(target) == []
    assert target.settings_file.read_text() == before


def test_uninstall_takes_out_an_install_that_kept_no_record(tmp_path: Path) -> None:
    old = hook_entries("/old/place/hooks/capture.sh", ["/old/bin/switchboard", "ingest"])
    target = _project(tmp_path, {"hooks": {**old, "Stop": [*old["Stop"], *USER_SETTINGS["hooks"]["Stop"]]}}, True)
    target.mcp_file.write_text(json.dumps({"mcpServers": {SERVER_NAME: {"command": "/old/sb", "args": ["serve"]}}}))
    uninstall(target)
    assert _load(target.settings_file) == {"hooks": {"Stop": USER_SETTINGS["hooks"]["Stop"]}}
    assert not target.mcp_file.exists()


def test_install_replaces_an_older_installs_commands_instead_of_adding_twice(tmp_path: Path) -> None:
    stale = hook_entries("/old/place/hooks/capture.sh", ["/old/bin/switchboard", "ingest"])
    target = _project(tmp_path, {"hooks": stale}, shared=True)
    install(target)
    commands = _our_commands(_load(target.settings_file))
    assert all(len(c) == 1 and "/old/" not in c[0] for c in commands.values())


def test_context_pressure_adds_the_python_hook_on_prompt_submit_only(tmp_path: Path) -> None:
    target = _project(tmp_path)
    install(target, context_pressure=True)
    commands = _our_commands(_load(target.settings_file))
    assert len(commands["UserPromptSubmit"]) == 2
    argv = shlex.split(commands["UserPromptSubmit"][1], comments=True)
    assert Path(argv[0]).is_absolute() and Path(argv[0]).name.startswith("python3")
    assert argv[-1] == str(hooks_dir() / "context_pressure.py")
    assert all(len(c) == 1 for event, c in commands.items() if event != "UserPromptSubmit")


def test_install_refuses_a_settings_file_that_is_not_json_and_leaves_it_alone(tmp_path: Path) -> None:
    target = _project(tmp_path)
    target.settings_file.write_text("{ not json")
    with pytest.raises(InstallError, match="not valid JSON"):
        install(target)
    assert target.settings_file.read_text() == "{ not json"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(["hooks", "mcpServers", "enabledMcpjsonServers", "x", "é"]), _json))
def test_install_then_uninstall_gives_back_any_settings_file_unchanged_or_refuses_it(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]
) -> None:
    user = tmp_path_factory.mktemp("user")
    target = Target.user(user)
    target.settings_file.parent.mkdir()
    for path in (target.settings_file, target.mcp_file):
        path.write_text(_claude_style(data), encoding="utf-8")
    state = tmp_path_factory.mktemp("state")
    try:
        install(target, home=state)
    except InstallError:
        pass
    else:
        uninstall(target, home=state)
    for path in (target.settings_file, target.mcp_file):
        assert path.read_text(encoding="utf-8") == _claude_style(data)


def test_plugin_hooks_json_registers_the_same_events_as_install() -> None:
    plugin = _load(REPO / "hooks" / "hooks.json")["hooks"]
    assert list(plugin) == list(CAPTURE_EVENTS)
    for groups in plugin.values():
        [group] = groups
        [handler] = group["hooks"]
        assert handler["command"].startswith('"${CLAUDE_PLUGIN_ROOT}"/hooks/capture.sh')
        assert "async" not in handler and handler["command"].endswith(MARK)
    assert plugin["SessionEnd"][0]["hooks"][0]["command"].split()[1:3] == ["switchboard", "ingest"]


def test_repo_mcp_json_registers_switchboard_serve_over_stdio() -> None:
    entry = _load(REPO / ".mcp.json")["mcpServers"][SERVER_NAME]
    assert (entry["type"], entry["command"], entry["args"]) == ("stdio", "switchboard", ["serve"])


def test_the_console_script_installs_and_uninstalls_a_project(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    env = {**os.environ, "HOME": str(tmp_path)}
    run = [str(SWITCHBOARD), "install", "--project", str(project)]
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert f"created {tmp_path / '.claude.json'}" in done.stdout
    settings = _load(project / ".claude" / "settings.local.json")
    assert shlex.split(settings["hooks"]["SessionEnd"][0]["hooks"][0]["command"], comments=True)[1] == str(SWITCHBOARD)
    undo = [str(SWITCHBOARD), "uninstall", "--project", str(project)]
    subprocess.run(undo, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert list(project.iterdir()) == [] and not (tmp_path / ".claude.json").exists()


def test_without_a_console_script_the_command_is_this_python_with_safe_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "__main__.py")])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python3"))
    assert switchboard_command() == [str(tmp_path / "bin" / "python3"), "-P", "-m", "server"]


def test_the_fallback_command_is_not_shadowed_by_a_server_folder_in_the_hooks_working_directory(
    tmp_path: Path,
) -> None:
    decoy = tmp_path / "server"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("")
    (decoy / "__main__.py").write_text("print('decoy')")
    argv = [str(REPO / ".venv" / "bin" / "python"), "-P", "-m", "server", "--version"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("switchboard ")


def test_install_refuses_hooks_of_an_unexpected_shape_without_writing(tmp_path: Path) -> None:
    target = _project(tmp_path, {"hooks": {"Stop": {"not": "a list"}}})
    before = target.settings_file.read_text()
    with pytest.raises(InstallError, match=re.escape('"hooks"."Stop" should be a JSON list')):
        install(target)
    assert target.settings_file.read_text() == before


def test_install_into_a_missing_project_folder_fails_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    done = subprocess.run(
        [str(SWITCHBOARD), "install", "--project", str(missing)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "not a directory" in done.stderr
    assert not missing.exists()


def test_install_otel_adds_the_telemetry_env_and_uninstall_removes_exactly_it(tmp_path: Path) -> None:
    target = Target.user(tmp_path)
    target.settings_file.parent.mkdir(parents=True)
    target.settings_file.write_text(json.dumps({"env": {"MY_VAR": "kept"}, "model": "opus"}))
    install(target, otel_port=8765, home=tmp_path / "state")
    env = _load(target.settings_file)["env"]
    assert env == {
        "MY_VAR": "kept",
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://127.0.0.1:8765/v1/logs",
        "OTEL_LOGS_EXPORT_INTERVAL": "1000",
        "OTEL_EXPORTER_OTLP_HEADERS": f"x-switchboard-otlp-secret={otlp_secret(tmp_path / 'state')}",
    }
    uninstall(target, home=tmp_path / "state")
    assert _load(target.settings_file) == {"env": {"MY_VAR": "kept"}, "model": "opus"}


def test_uninstall_gives_back_the_telemetry_settings_install_otel_replaced(tmp_path: Path) -> None:
    target = Target.user(tmp_path)
    target.settings_file.parent.mkdir(parents=True)
    theirs = {
        "OTEL_LOGS_EXPORTER": "console",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://collector.example/v1/logs",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer their-collector-token",
    }
    target.settings_file.write_text(json.dumps({"env": theirs}))
    install(target, otel_port=8765, home=tmp_path / "state")
    env = _load(target.settings_file)["env"]
    assert env["OTEL_LOGS_EXPORTER"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_HEADERS"].startswith("x-switchboard-otlp-secret=")
    uninstall(target, home=tmp_path / "state")
    assert _load(target.settings_file)["env"] == theirs


def test_install_otel_keeps_one_secret_per_install_that_the_receiver_reads(tmp_path: Path) -> None:
    target = Target.user(tmp_path)
    state = tmp_path / "state"
    install(target, otel_port=8765, home=tmp_path / "state")
    first = _load(target.settings_file)["env"]["OTEL_EXPORTER_OTLP_HEADERS"]
    install(target, otel_port=8765, home=tmp_path / "state")  # again: running sessions keep the secret they were given
    assert _load(target.settings_file)["env"]["OTEL_EXPORTER_OTLP_HEADERS"] == first
    secret = otlp_secret(state)
    assert first == f"x-switchboard-otlp-secret={secret}" and len(secret) >= 32
    assert (state / "otlp_secret").stat().st_mode & 0o777 == 0o600
    assert otlp_secret(tmp_path / "another-install") != secret


def test_the_shared_hook_command_loads_neither_the_store_nor_sqlalchemy(tmp_path: Path) -> None:
    argv = [str(REPO / ".venv" / "bin" / "python"), "-X", "importtime", "-m", "server", "capture"]
    env = {**os.environ, "SWITCHBOARD_HOME": str(tmp_path)}
    done = subprocess.run(argv, input=b"{}", env=env, capture_output=True, timeout=60)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines()}
    assert "server.cli" in imported and not {"sqlalchemy", "server.store", "pydantic"} & imported


def _cli(*args: str, home: Path, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "SWITCHBOARD_HOME": str(state)}
    return subprocess.run([str(SWITCHBOARD), *args], env=env, capture_output=True, text=True, timeout=60, check=True)


def test_uninstall_project_leaves_a_teammates_shared_install_alone(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    _cli("install", "--project", str(project), "--shared", home=tmp_path / "them", state=tmp_path / "their-state")
    committed = _tree(project)
    _cli("uninstall", "--project", str(project), home=tmp_path / "me", state=tmp_path / "my-state")
    assert _tree(project) == committed


def test_uninstall_project_takes_out_an_older_project_install_with_machine_paths(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".claude").mkdir(parents=True)
    old = hook_entries("/old/place/hooks/capture.sh", ["/old/bin/switchboard", "ingest"])
    (project / ".claude" / "settings.json").write_text(
        json.dumps({"hooks": old, "enabledMcpjsonServers": ["switchboard"]})
    )
    (project / ".mcp.json").write_text(
        json.dumps({"mcpServers": {SERVER_NAME: {"command": "/old/sb", "args": ["serve"]}}})
    )
    _cli("uninstall", "--project", str(project), home=tmp_path / "me", state=tmp_path / "state")
    assert list(project.rglob("*")) == [project / ".claude"]


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=60, check=True).stdout


def test_a_local_project_install_stays_out_of_git_status_and_uninstall_restores_the_exclude_file(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    _git(repo, "init", "-q")
    exclude_file = repo / ".git" / "info" / "exclude"
    before = exclude_file.read_bytes()
    target = Target.project(repo / "app", home=tmp_path / "user")
    install(target)
    assert _git(repo, "status", "--porcelain") == ""
    assert exclude_file.read_text().endswith("\n/app/.claude/settings.local.json\n")
    uninstall(target)
    assert exclude_file.read_bytes() == before and _git(repo, "status", "--porcelain", "--ignored") == ""


def test_install_statusline_sets_the_fast_path_and_uninstall_takes_it_out(tmp_path: Path) -> None:
    target = _project(tmp_path, {"model": "opus"})
    before = target.settings_file.read_bytes()
    install(target, statusline=True)
    entry = _load(target.settings_file)["statusLine"]
    words = shlex.split(entry["command"], comments=True)
    assert entry["type"] == "command" and is_ours(entry["command"])
    assert words[1:] == ["-I", "-S", str(hooks_dir() / "statusline.py")]
    # The interpreter itself, not a wrapper script such as pyenv's bash shim (~100 ms before Python starts).
    assert not Path(words[0]).read_bytes().startswith(b"#!")
    uninstall(target)
    assert target.settings_file.read_bytes() == before


def test_install_never_replaces_a_users_own_statusline_without_force_and_uninstall_gives_it_back(
    tmp_path: Path,
) -> None:
    theirs = {"type": "command", "command": "~/bin/my-line.sh", "padding": 1}
    target = _project(tmp_path, {"statusLine": theirs})
    before = target.settings_file.read_bytes()
    with pytest.raises(InstallError, match=r"statusLine of your own \(~/bin/my-line.sh\).*--force"):
        install(target, statusline=True)
    assert target.settings_file.read_bytes() == before
    install(target, statusline=True, force=True)
    assert is_ours(_load(target.settings_file)["statusLine"]["command"])
    install(target, statusline=True)  # installing again is not replacing theirs: ours is taken out first
    uninstall(target)
    assert _load(target.settings_file)["statusLine"] == theirs


def test_the_install_command_refuses_a_users_statusline_with_one_line_naming_force(tmp_path: Path) -> None:
    target = _project(tmp_path, {"statusLine": {"type": "command", "command": "echo mine"}})
    done = subprocess.run(
        [str(SWITCHBOARD), "install", "--project", str(target.directory), "--statusline"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path / "user")},
    )
    assert done.returncode == 1 and "--force" in done.stderr and len(done.stderr.splitlines()) == 1
