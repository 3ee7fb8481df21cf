from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.config import SwitchboardConfig
from server.engine.runtime import Runtime
from server.settings import Settings
from server.store.models import Delegation, ProviderEvent
from server.store.recorder import Recorder
from tests.fakes.openai_api import FakeOpenAI


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a", "model-b"]) as server:
        yield server


@pytest.fixture
def second() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-c"]) as server:
        yield server


def make_config(fake: FakeOpenAI, second: FakeOpenAI | None = None, **sections: Any) -> SwitchboardConfig:
    providers: dict[str, Any] = {
        "acme": {
            "base_url": fake.base_url,
            "api_key_env": "ACME_KEY",
            "models": ["model-a", "model-b"],
            # model-b is unpriced (genai-prices does not know it either), so it ranks after model-a.
            "prices": {"model-a": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}},
        }
    }
    default = ["acme:model-a", "acme:model-b"]
    if second is not None:
        providers["beta"] = {"base_url": second.base_url, "models": ["model-c"]}
        default.append("beta:model-c")
    # These tests pin fallback, breaker and cache behaviour to the written order; tests/server/routing covers learning.
    data: dict[str, Any] = {"providers": providers, "routing": {"default": default, "learn": False}}
    data.update(sections)
    return SwitchboardConfig.model_validate(data)


MakeRuntime = Callable[..., Runtime]


@pytest.fixture
async def make_runtime(settings: Settings, engine: Engine, tmp_path: Path) -> AsyncIterator[MakeRuntime]:
    """Build runtimes on the test's store; their provider clients are closed afterwards."""
    made: list[Runtime] = []

    def make(config: SwitchboardConfig, clock: Clock | None = None, **kw: Any) -> Runtime:
        environ = {"ACME_KEY": "k", "CLAUDE_CODE_SESSION_ID": "sess-1", **kw.pop("environ", {})}
        extra: dict[str, Any] = {"clock": clock} if clock else {}
        kw.setdefault("roots", [tmp_path])
        runtime = Runtime.create(settings, config, engine, environ=environ, **extra, **kw)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        await runtime.aclose()


def delegations(engine: Engine) -> list[Delegation]:
    assert Recorder.wait_all_idle(20), "the recorder did not finish writing"
    with Session(engine) as db:
        return list(db.exec(select(Delegation).order_by(col(Delegation.id))).all())


def events(engine: Engine) -> list[tuple[str, str]]:
    assert Recorder.wait_all_idle(20), "the recorder did not finish writing"
    with Session(engine) as db:
        rows = db.exec(select(ProviderEvent).order_by(col(ProviderEvent.id))).all()
        return [(row.provider, row.event) for row in rows]
