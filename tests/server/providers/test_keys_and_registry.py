from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.config import SwitchboardConfig
from server.providers.base import MissingKeyError
from server.providers.keys import find_key, read_dotenv, require_key
from server.providers.openai_compat import OpenAICompatProvider
from server.providers.registry import Registry, split_model_id


def config(**providers: dict[str, object]) -> SwitchboardConfig:
    return SwitchboardConfig.model_validate({"providers": providers})


def test_key_comes_from_the_environment_first(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ACME_KEY=from-dotenv\n")
    assert find_key("ACME_KEY", environ={"ACME_KEY": "from-env"}, cwd=tmp_path) == "from-env"


def test_key_comes_from_the_project_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text('# keys\nexport ACME_KEY="from-dotenv"\nOTHER=1\n')
    assert find_key("ACME_KEY", environ={}, cwd=tmp_path) == "from-dotenv"


def test_key_comes_from_the_user_config_dotenv(home: Path, tmp_path: Path) -> None:
    user_dir = tmp_path / "xdg-config" / "switchboard"
    user_dir.mkdir(parents=True)
    (user_dir / ".env").write_text("ACME_KEY='user-key'\n")
    project = tmp_path / "project"
    project.mkdir()
    assert find_key("ACME_KEY", environ={}, cwd=project) == "user-key"


def test_key_comes_from_a_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "acme.key"
    key_file.write_text("file-key\n")
    assert find_key("ACME_KEY", key_file, environ={}, cwd=tmp_path) == "file-key"


def test_missing_key_error_names_the_variable_to_set(home: Path, tmp_path: Path) -> None:
    with pytest.raises(MissingKeyError, match="set ACME_KEY"):
        require_key("acme", "ACME_KEY", environ={}, cwd=tmp_path)


def test_dotenv_parser_ignores_comments_and_junk(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# c\n\nnot a pair\nA=1\nB = ' two '\n")
    assert read_dotenv(path) == {"A": "1", "B": " two "}
    assert read_dotenv(tmp_path / "missing") == {}


def test_dotenv_values_drop_a_trailing_comment_and_keep_quoted_hashes(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('FOO=abc # note\nexport BAR="x # y"\nBAZ=p#q\n')
    assert read_dotenv(path) == {"FOO": "abc", "BAR": "x # y", "BAZ": "p#q"}


def test_model_ids_split_on_the_first_colon() -> None:
    assert split_model_id("ollama:qwen2.5-coder:7b") == ("ollama", "qwen2.5-coder:7b")
    with pytest.raises(ValueError, match="provider:model"):
        split_model_id("gpt-4o")


def test_a_preset_fills_kind_url_key_variable_and_models() -> None:
    registry = Registry(config(groq={}, fast={"preset": "cerebras"}, mine={"base_url": "http://x/v1"}))
    assert registry.specs["groq"].kind == "groq"
    assert registry.specs["groq"].api_key_env == "GROQ_API_KEY"
    assert registry.specs["fast"].base_url == "https://api.cerebras.ai/v1"
    assert registry.specs["fast"].kind == "openai-compatible"
    assert "fast:llama-3.3-70b" in [m.id for m in registry.models()]
    assert registry.specs["mine"].kind == "openai-compatible" and registry.specs["mine"].models == []


def test_an_unknown_preset_is_an_error_that_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="cerebras"):
        Registry(config(x={"preset": "nope"}))


def test_disabled_providers_are_left_out() -> None:
    registry = Registry(config(acme={"models": ["a"], "enabled": False}))
    assert registry.models() == [] and registry.model("acme:a") is None


def test_config_prices_and_context_windows_attach_to_models() -> None:
    registry = Registry(
        config(
            acme={
                "models": ["a"],
                "prices": {"a": {"input_per_mtok": 1, "output_per_mtok": 2}},
                "context_windows": {"a": 8000},
            }
        )
    )
    info = registry.model("acme:a")
    assert info is not None and info.price is not None and info.price.output_per_mtok == 2
    assert info.context_window == 8000


def test_registry_builds_a_client_only_when_asked_and_keyless_local_servers_work() -> None:
    registry = Registry(config(local={"preset": "ollama", "models": ["qwen"]}))
    assert isinstance(registry.get("local"), OpenAICompatProvider)


def test_registry_get_without_the_key_names_the_variable() -> None:
    registry = Registry(config(acme={"base_url": "http://x/v1", "api_key_env": "ACME_KEY"}), environ={})
    with pytest.raises(MissingKeyError, match="ACME_KEY"):
        registry.get("acme")


def test_building_the_server_imports_no_provider_sdk(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from server.config import SwitchboardConfig\n"
        "from server.tools.app import build_server\n"
        "from server.providers.registry import Registry\n"
        "cfg = SwitchboardConfig.model_validate({'providers': {'anthropic': {}, 'groq': {}, 'openai': {}}})\n"
        "build_server(config=cfg); Registry(cfg).models()\n"
        "print(sorted(m for m in ('openai', 'anthropic', 'groq') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_registry_builds_each_kind_with_its_sdk() -> None:
    from server.providers.anthropic import AnthropicProvider
    from server.providers.cli import CliProvider
    from server.providers.groq import GroqProvider

    registry = Registry(
        config(
            groq={},
            claude={"kind": "anthropic", "api_key_env": "CLAUDE_KEY"},
            gem={"kind": "cli", "command": ["gemini", "-p", "{prompt}"]},
        ),
        environ={"GROQ_API_KEY": "g-key", "CLAUDE_KEY": "c-key"},
    )
    assert isinstance(registry.get("groq"), GroqProvider)
    assert type(registry.get("groq")._client).__module__.split(".")[0] == "groq"  # the groq SDK, not openai's
    assert isinstance(registry.get("claude"), AnthropicProvider)
    assert isinstance(registry.get("gem"), CliProvider)


def test_cli_presets_fill_the_command_line() -> None:
    registry = Registry(config(codex={}, gem={"preset": "gemini-cli", "models": ["gemini-2.5-flash"]}))
    assert registry.specs["codex"].kind == "cli"
    assert registry.specs["codex"].command[:2] == ["codex", "exec"]
    assert registry.specs["gem"].command == ["gemini", "-m", "{model}"]
    assert [m.id for m in registry.models() if m.provider == "gem"] == ["gem:gemini-2.5-flash"]
