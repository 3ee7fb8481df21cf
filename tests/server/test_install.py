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
from server.store.hook_events import CAPTURE_EVENTS, HOOK_EVENTS

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


def _project(tmp_path: Path, settings: dict[str, Any] | None = None) -> Target:
    target = Target.project(tmp_path / "proj")
    target.settings_file.parent.mkdir(parents=True)
    if settings is not None:
        target.settings_file.write_text(json.dumps(settings), encoding="utf-8")
    return target


def _our_commands(settings: dict[str, Any]) -> dict[str, list[str]]:
    return {
        event: [h["command"] for group in groups for h in group["hooks"] if is_ours(h["command"])]
        for event, groups in settings.get("hooks", {}).items()
    }


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
    target = _project(tmp_path, USER_SETTINGS)
    install(target)
    settings = _load(target.settings_file)
    assert settings["model"] == "opus" and settings["permissions"] == USER_SETTINGS["permissions"]
    assert settings["hooks"]["PreToolUse"][0] == USER_SETTINGS["hooks"]["PreToolUse"][0]
    assert settings["hooks"]["Stop"][0] == USER_SETTINGS["hooks"]["Stop"][0]
    assert settings["enabledMcpjsonServers"] == ["github", SERVER_NAME]


def test_installing_twice_gives_the_same_files_and_no_second_backup(tmp_path: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS)
    assert install(target) == [target.settings_file, target.mcp_file]
    first = (target.settings_file.read_text(), target.mcp_file.read_text())
    backups = sorted(target.settings_file.parent.glob("settings.json.switchboard-backup-*"))
    assert install(target) == []
    assert (target.settings_file.read_text(), target.mcp_file.read_text()) == first
    assert sorted(target.settings_file.parent.glob("settings.json.switchboard-backup-*")) == backups


def test_install_backs_up_the_settings_file_before_changing_it(tmp_path: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS)
    original = target.settings_file.read_text()
    install(target)
    [backup] = target.settings_file.parent.glob("settings.json.switchboard-backup-*")
    assert backup.read_text() == original


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


def test_install_registers_the_mcp_server_and_approves_it_for_the_project(tmp_path: Path) -> None:
    target = _project(tmp_path)
    target.mcp_file.write_text(json.dumps({"mcpServers": {"github": {"command": "gh-mcp"}}}))
    install(target)
    servers = _load(target.mcp_file)["mcpServers"]
    assert servers["github"] == {"command": "gh-mcp"}
    entry = servers[SERVER_NAME]
    assert _runs_the_launcher(entry)
    assert SERVER_NAME in _load(target.settings_file)["enabledMcpjsonServers"]


def test_user_scope_registers_the_server_in_claude_json_and_keeps_its_other_state(tmp_path: Path) -> None:
    target = Target.user(tmp_path)
    (tmp_path / ".claude.json").write_text(json.dumps({"numStartups": 4, "projects": {"/x": {}}}))
    install(target)
    state = _load(tmp_path / ".claude.json")
    assert state["numStartups"] == 4 and state["projects"] == {"/x": {}}
    assert _runs_the_launcher(state["mcpServers"][SERVER_NAME])
    assert "enabledMcpjsonServers" not in _load(tmp_path / ".claude" / "settings.json")


def test_uninstall_removes_exactly_what_install_added(tmp_path: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS)
    target.mcp_file.write_text(json.dumps({"mcpServers": {"github": {"command": "gh-mcp"}}}))
    install(target, context_pressure=True)
    assert uninstall(target) == [target.settings_file, target.mcp_file]
    assert _load(target.settings_file) == USER_SETTINGS
    assert _load(target.mcp_file) == {"mcpServers": {"github": {"command": "gh-mcp"}}}


def test_uninstall_deletes_project_files_install_created_and_leaves_a_backup(tmp_path: Path) -> None:
    target = _project(tmp_path)
    install(target)
    uninstall(target)
    assert not target.settings_file.exists() and not target.mcp_file.exists()
    assert list(target.settings_file.parent.glob("settings.json.switchboard-backup-*"))


def test_uninstall_without_install_changes_nothing(tmp_path: Path) -> None:
    target = _project(tmp_path, USER_SETTINGS)
    before = target.settings_file.read_text()
    assert uninstall(target) == []
    assert target.settings_file.read_text() == before


def test_install_replaces_an_older_installs_commands_instead_of_adding_twice(tmp_path: Path) -> None:
    stale = hook_entries("/old/place/hooks/capture.sh", ["/old/bin/switchboard", "ingest"])
    target = _project(tmp_path, {"hooks": stale})
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
    assert f"created {project / '.mcp.json'}" in done.stdout
    settings = _load(project / ".claude" / "settings.json")
    assert shlex.split(settings["hooks"]["SessionEnd"][0]["hooks"][0]["command"], comments=True)[1] == str(SWITCHBOARD)
    undo = [str(SWITCHBOARD), "uninstall", "--project", str(project)]
    subprocess.run(undo, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert not (project / ".claude" / "settings.json").exists()


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


def test_install_lifts_an_earlier_rejection_of_the_server(tmp_path: Path) -> None:
    target = _project(tmp_path, {"disabledMcpjsonServers": ["switchboard", "other"]})
    install(target)
    settings = _load(target.settings_file)
    assert settings["disabledMcpjsonServers"] == ["other"]
    assert SERVER_NAME in settings["enabledMcpjsonServers"]


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
    install(target, otel_port=8765)
    env = _load(target.settings_file)["env"]
    assert env == {
        "MY_VAR": "kept",
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://127.0.0.1:8765/v1/logs",
        "OTEL_LOGS_EXPORT_INTERVAL": "1000",
    }
    uninstall(target)
    assert _load(target.settings_file) == {"env": {"MY_VAR": "kept"}, "model": "opus"}


def test_uninstall_leaves_telemetry_settings_it_did_not_write(tmp_path: Path) -> None:
    target = Target.user(tmp_path)
    target.settings_file.parent.mkdir(parents=True)
    theirs = {"OTEL_LOGS_EXPORTER": "console", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://collector.example/v1/logs"}
    target.settings_file.write_text(json.dumps({"env": theirs}))
    install(target)
    uninstall(target)
    assert _load(target.settings_file)["env"] == theirs
