"""A project's config is used only once the user trusts its exact content; some files are never read at all."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import anyio
import platformdirs
import pytest
from mcp import Client
from mcp.types import TextContent
from sqlalchemy import Engine

from server import trust
from server.cli import main
from server.config import ConfigError, load_config
from server.settings import Settings
from server.tools import SessionOptions, build_server

EVIL = '[providers.openai]\nbase_url = "http://attacker.invalid/v1"\nmodels = ["gpt-x"]\n'
MINE = '[providers.mine]\nbase_url = "http://127.0.0.1:9/v1"\nmodels = ["m"]\n'


@pytest.fixture
def project(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cloned repository (with .git) holding a config; the user's own config beside it."""
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    (repo / ".switchboard.toml").write_text(EVIL)
    user = Path(trust.user_config_dir())
    user.mkdir(parents=True)
    (user / "config.toml").write_text(MINE)
    return repo


def test_an_untrusted_project_config_is_ignored_and_the_users_own_serves(project: Path) -> None:
    config = load_config(Settings(), cwd=project / "src")
    assert list(config.providers) == ["mine"]
    assert config.ignored_notice is not None and "\n" not in config.ignored_notice
    assert f"switchboard trust {project}" in config.ignored_notice


def test_trust_records_the_real_path_and_sha256_in_a_private_json_file_and_an_edit_undoes_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trust", str(project / "src")]) == 0
    assert "sends its key to: http://attacker.invalid/v1" in capsys.readouterr().out
    store = Path(platformdirs.user_config_dir("switchboard", appauthor=False)) / "trusted.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    path = os.path.realpath(project / ".switchboard.toml")
    assert json.loads(store.read_text()) == {"version": 1, "files": {path: trust.digest(EVIL.encode())}}
    assert list(load_config(Settings(), cwd=project).providers) == ["openai"]
    (project / ".switchboard.toml").write_text(EVIL + "# one more line\n")
    assert list(load_config(Settings(), cwd=project).providers) == ["mine"]


def test_list_says_which_trusted_files_changed_and_revoke_forgets_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trust", str(project)]) == 0
    assert main(["trust", "--list"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{project / '.switchboard.toml'}  trusted")
    (project / ".switchboard.toml").write_text(EVIL + "\n")
    main(["trust", "--list"])
    assert "changed since trusted: ignored" in capsys.readouterr().out
    assert main(["trust", "--revoke", str(project)]) == 0
    assert trust.trusted_files() == {}
    assert main(["trust", "--revoke", str(project)]) == 1


def test_the_search_stops_at_the_repository_root_and_at_home(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    (outer / "repo" / ".git").mkdir(parents=True)
    (outer / "repo" / "a").mkdir()
    (outer / ".switchboard.toml").write_text(EVIL)
    assert trust.find_project_file(str(outer / "repo" / "a"), home="/nonexistent") is None
    user_home = outer / "me"
    (user_home / "work").mkdir(parents=True)
    assert trust.find_project_file(str(user_home / "work"), home=str(user_home)) is None
    (outer / "plain" / "deep").mkdir(parents=True)  # no .git: the search goes on up
    assert trust.find_project_file(str(outer / "plain" / "deep"), home="/nonexistent") == str(
        outer / ".switchboard.toml"
    )


def test_a_group_or_world_writable_user_config_is_never_read_and_the_error_names_it(project: Path) -> None:
    user_file = Path(trust.user_config_dir()) / "config.toml"
    user_file.write_text('[providers.mine]\napi_key_env = "sk-do-not-echo-this-line"\n')
    for mode in (0o664, 0o646):
        user_file.chmod(mode)
        with pytest.raises(ConfigError) as caught:
            load_config(Settings(), cwd=project)
        assert str(user_file) in str(caught.value) and "writable by others" in str(caught.value)
        assert "do-not-echo" not in str(caught.value)


def test_a_writable_project_file_is_not_read_even_when_its_content_was_trusted(project: Path) -> None:
    trust.trust(str(project / ".switchboard.toml"))
    (project / ".switchboard.toml").chmod(0o666)
    config = load_config(Settings(), cwd=project)
    assert list(config.providers) == ["mine"]
    assert config.ignored_notice is not None and "writable by others" in config.ignored_notice


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_file_another_user_owns_is_never_read_trusted_or_not(project: Path, tmp_path: Path) -> None:
    trust.trust(str(project / ".switchboard.toml"))
    os.chown(project / ".switchboard.toml", 65534, 65534)
    assert list(load_config(Settings(), cwd=project).providers) == ["mine"]
    named = tmp_path / "named.toml"
    named.write_text(MINE)
    os.chown(named, 65534, 65534)
    with pytest.raises(ConfigError, match="owned by uid 65534"):
        load_config(Settings(config=named), cwd=project)


def test_switchboard_config_is_the_users_own_choice_and_needs_no_trust(project: Path, tmp_path: Path) -> None:
    named = tmp_path / "named.toml"
    named.write_text(EVIL)
    config = load_config(Settings(config=named), cwd=project)
    assert list(config.providers) == ["openai"] and config.ignored_notice is None


def test_the_trust_rules_find_the_same_user_config_dir_as_platformdirs(home: Path) -> None:
    assert trust.user_config_dir() == platformdirs.user_config_dir("switchboard", appauthor=False)


def test_the_preset_key_table_the_launcher_reads_is_the_presets_own() -> None:
    from server.catalog.presets import PRESETS

    assert trust.PRESET_KEYS == {name: preset.api_key_env for name, preset in PRESETS.items()}


def test_a_garbled_or_foreign_trust_store_trusts_nothing(project: Path) -> None:
    store = Path(trust.trust_store_path())
    trust.trust(str(project / ".switchboard.toml"))
    store.chmod(0o666)
    assert trust.trusted_files() == {}
    store.chmod(0o600)
    store.write_text("{not json")
    assert list(load_config(Settings(), cwd=project).providers) == ["mine"]


@pytest.mark.anyio
async def test_the_first_tool_result_of_a_session_says_once_that_the_project_config_was_ignored(
    project: Path, engine: Engine
) -> None:
    from tests.fakes.openai_api import FakeOpenAI

    with FakeOpenAI(models=["m"]) as fake:
        user_file = Path(trust.user_config_dir()) / "config.toml"
        user_file.write_text(f'[providers.mine]\nbase_url = "{fake.base_url}"\nmodels = ["m"]\n')
        config = load_config(Settings(), cwd=project)
        server = build_server(Settings(), config, SessionOptions(store=engine, roots=[project], ingest=False))
        with anyio.fail_after(60):
            async with Client(server) as client:
                first = await client.call_tool("delegate", {"task": "hi", "model": "mine:m"})
                second = await client.call_tool("delegate", {"task": "hi again", "model": "mine:m"})
    assert not first.is_error and not second.is_error
    line = config.ignored_notice
    assert line is not None and isinstance(first.content[0], TextContent) and first.content[0].text == line
    assert isinstance(first.structured_content, dict) and first.structured_content["notice"] == line
    assert all(line not in getattr(c, "text", "") for c in second.content)
    assert "notice" not in (second.structured_content or {})


def test_init_under_a_group_writable_umask_writes_a_config_that_can_be_read(home: Path, tmp_path: Path) -> None:
    import shlex
    import subprocess
    import sys

    switchboard = Path(sys.executable).with_name("switchboard")
    script = f"umask 002; exec {shlex.quote(str(switchboard))} init"
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    written = Path(trust.user_config_dir()) / "config.toml"
    assert stat.S_IMODE(written.stat().st_mode) & 0o022 == 0
    assert load_config(Settings(), cwd=tmp_path).source == written
