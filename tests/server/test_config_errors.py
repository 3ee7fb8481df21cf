"""Config errors read as sentences: the file, the line, what is wrong, and a fix when one is close."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_config
from server.settings import Settings


def error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "switchboard.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(Settings(config=path))
    return str(raised.value).replace(str(path), "CONFIG")


def test_a_mistyped_section_names_its_line_and_the_section_meant(home: Path, tmp_path: Path) -> None:
    message = error_for(tmp_path, '# mine\n\n[provider.acme]\nbase_url = "http://x"\n')
    assert message == "CONFIG, line 3: [provider.acme] is not a known section; did you mean [providers.acme]?"


def test_a_mistyped_setting_names_its_line_and_the_setting_meant(home: Path, tmp_path: Path) -> None:
    message = error_for(tmp_path, '[providers.acme]\nbase_url = "http://x"\nmodles = ["a"]\n')
    assert (
        message == "CONFIG, line 3: providers.acme.modles is not a known setting; did you mean providers.acme.models?"
    )


def test_a_wrong_value_says_what_it_got_and_what_it_should_be_without_pydantic_links(
    home: Path, tmp_path: Path
) -> None:
    message = error_for(tmp_path, '[routing]\ndefault = ["a:b"]\norder = "cheap"\n')
    assert message == "CONFIG, line 3: routing.order (got 'cheap'); it should be 'cost' or 'latency'."


def test_several_problems_are_listed_in_line_order(home: Path, tmp_path: Path) -> None:
    text = '[routing.task_types]\ncoding = ["a:b"]\n\n[budgets]\ndaily = 5\n'
    message = error_for(tmp_path, text)
    assert message.splitlines() == [
        "config file CONFIG is invalid:",
        "- CONFIG, line 2: routing.task_types has the key 'coding'; it should be 'code_fix', 'ui', 'ai_feature', "
        "'research', 'cost_sensitive' or 'general'.",
        "- CONFIG, line 5: budgets.daily is not a known setting; did you mean budgets.daily_usd?",
    ]
    assert "pydantic" not in message and "http" not in message
