from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.doctor import CHECKS, Check, DoctorContext
from server.doctor.providers import check_providers
from server.settings import Settings
from tests.fakes.openai_api import FakeOpenAI, closed_port


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a", "model-b"], api_key="sk-doc") as server:
        yield server


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str) -> list[Check]:
    config = tmp_path / "switchboard.toml"
    config.write_text(toml)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    return list(check_providers(DoctorContext(settings=Settings(), project=tmp_path, user_home=tmp_path)))


def test_doctor_runs_the_provider_check() -> None:
    assert check_providers in CHECKS


def test_a_reachable_provider_with_its_models_passes_with_one_free_listing_call(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    monkeypatch.setenv("ACME_KEY", "sk-doc")
    toml = f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
    [check] = run(tmp_path, monkeypatch, toml)
    assert check.ok and check.name == "provider acme"
    assert fake.model_list_calls == 1 and fake.requests == [], "never a billed completion"


def test_a_missing_key_fails_naming_the_variable(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    monkeypatch.delenv("ACME_KEY", raising=False)
    toml = f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
    [check] = run(tmp_path, monkeypatch, toml)
    assert not check.ok and check.fix == "set ACME_KEY"


def test_a_model_the_endpoint_does_not_offer_fails_listing_what_it_offers(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    monkeypatch.setenv("ACME_KEY", "sk-doc")
    toml = f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-z"]\n'
    [check] = run(tmp_path, monkeypatch, toml)
    assert not check.ok and "model-z" in check.detail and check.fix is not None and "model-a" in check.fix


def test_an_unreachable_provider_fails(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = f'[providers.local]\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\nmodels = ["m"]\n'
    [check] = run(tmp_path, monkeypatch, toml)
    assert not check.ok and "did not list its models" in check.detail


def test_a_routing_entry_without_its_provider_fails(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = run(tmp_path, monkeypatch, '[routing]\ndefault = ["groq:llama-3.3-70b-versatile"]\n')
    routing = [c for c in checks if c.name == "routing"]
    assert len(routing) == 1 and not routing[0].ok and "[providers.groq]" in (routing[0].fix or "")
