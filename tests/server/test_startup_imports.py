"""The MCP server answers ``initialize`` before loading SQLAlchemy, the store, the engines or a provider SDK.

Those imports cost ~0.2 s here (provider SDKs far more); the server warms them in a worker thread once the
client has its answer. The import checks run in a fresh interpreter, since this one has loaded everything.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

import server.tools.app
from server.config import SwitchboardConfig
from server.engine.runtime import HEAVY_MODULES, Runtime
from server.settings import Settings
from server.store.database import open_store
from server.tools.app import SessionOptions, build_server

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "genai_prices", "openai", "anthropic", "groq", "server.store.models")

_PRELUDE = f"""
import json, sys
HEAVY = {HEAVY!r}
def loaded():
    return sorted(name for name in HEAVY if name in sys.modules)
from server.config import SwitchboardConfig
CONFIG = SwitchboardConfig.model_validate(
    {{"providers": {{"anthropic": {{}}, "groq": {{}}, "openai": {{}}, "acme": {{"base_url": "http://127.0.0.1:9/v1",
    "models": ["m"]}}}}}}
)
"""


def run_fresh(code: str, home: Path) -> Any:
    """Run ``code`` (after the prelude) in a new interpreter; it prints one JSON value."""
    done = subprocess.run(
        [sys.executable, "-c", _PRELUDE + code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"SWITCHBOARD_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_app_and_building_the_server_loads_no_store_nor_provider_sdk(home: Path) -> None:
    code = """
import server.tools.app
after_import = loaded()
server.tools.app.build_server(config=CONFIG)
print(json.dumps([after_import, loaded()]))
"""
    assert run_fresh(code, home) == [[], []]


def test_initialize_is_answered_before_the_store_or_an_sdk_is_loaded(home: Path) -> None:
    # A middleware outside the app's own sees the answer to initialize before it goes out.
    code = """
import anyio
from mcp import Client
from server.tools.app import SessionOptions, build_server
seen = {}
async def spy(ctx, call_next):
    result = await call_next(ctx)
    if ctx.method == "initialize":
        seen["initialize"] = loaded()
    return result
app = build_server(config=CONFIG, options=SessionOptions(ingest=False))
app.middleware.insert(0, spy)
async def main():
    async with Client(app, mode="legacy"):  # the initialize handshake, as Claude Code does it
        pass
anyio.run(main)
print(json.dumps(seen))
"""
    assert run_fresh(code, home) == {"initialize": []}


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_store_opens_after_the_handshake_without_waiting_for_a_tool_call(
    mode: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.tools.app, "WARM_FALLBACK_S", 3600.0)  # only the handshake can start it
    opened = threading.Event()
    runtimes: list[Runtime] = []

    def hook(runtime: Runtime) -> None:
        def open_and_tell() -> Any:
            store = open_store(settings)
            opened.set()
            return store

        runtime.set_store_opener(open_and_tell)
        runtimes.append(runtime)

    app = build_server(settings, SwitchboardConfig(), SessionOptions(ingest=False, on_runtime=hook))
    with anyio.fail_after(40):
        async with Client(app, mode=mode):
            assert await anyio.to_thread.run_sync(opened.wait, 30)
    assert runtimes[0].has_store


def test_the_warm_up_list_names_modules_that_exist() -> None:
    assert [name for name in HEAVY_MODULES if importlib.util.find_spec(name) is None] == []


def test_the_analytics_package_still_exports_every_name_it_lists() -> None:
    import server.analytics as analytics

    for submodule in ("savings", "session_detail"):  # loaded first: the package binds each by its name
        importlib.import_module(f"server.analytics.{submodule}")
    from server.analytics import savings, session_detail

    assert all(getattr(analytics, name) is not None for name in analytics.__all__)
    # Submodules named like their function: the package name stays the function, loaded in either order.
    assert callable(savings) and callable(session_detail)
    assert analytics.savings is savings and analytics.session_detail is session_detail
