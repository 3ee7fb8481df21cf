"""One launcher connection: the handshake that says whose session it is, then that session's MCP server.

The launcher sends one JSON line: protocol, build stamp, working directory, and the session's identity variables
(``CLAUDE_CODE_SESSION_ID``, ``CLAUDE_PROJECT_DIR``, ``SWITCHBOARD_CONFIG``, ``MCP_TOOL_TIMEOUT``). The service
loads that session's config and asks for keys; the launcher sends the key variables that *its own* reading of the
config names (:mod:`server.trust`'s rules, so an untrusted project config names none), and the service keeps
only those its own reading names too, and says ok; from then on the bytes are MCP. Keys live in that session's
runtime only: never on disk, never in a log line.

A launcher from newer code (another build stamp) is told to restart, and the service retires: it stops taking
sessions, finishes the ones it has, and exits, so a session never talks to old code after an upgrade.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from anyio.abc import ByteStream
from anyio.streams.buffered import BufferedByteReceiveStream

from server.config import ConfigError, SwitchboardConfig, load_config
from server.engine.runtime import Shared, default_roots
from server.providers.registry import ProviderSpec
from server.service.wire import PROTOCOL
from server.settings import Settings

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.tools import Tool
    from sqlalchemy import Engine

__all__ = ["HANDSHAKE_TIMEOUT_S", "Admission", "Hello", "SessionHost", "handle_connection", "key_variables"]

logger = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0
MAX_HANDSHAKE_BYTES = 1024 * 1024


class SessionHost(Protocol):
    """What a connection needs from the service."""

    settings: Settings
    stamp: str
    open_store: Callable[[], Engine]

    async def ready(self) -> None:
        """Returns once the MCP layer is imported (the service imports it in a worker thread at start)."""
        ...

    def shared_for(self, config: SwitchboardConfig) -> Shared: ...
    def retire(self) -> None: ...
    def tools(self) -> list[Tool]:
        """The tools every session's server serves (built once, after :meth:`ready`)."""
        ...

    def active(self) -> AbstractContextManager[None]: ...
    def status(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Hello:
    stamp: str
    cwd: Path
    env: dict[str, str]
    query: str | None = None

    @classmethod
    def parse(cls, line: bytes) -> Hello:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("protocol") != PROTOCOL:
            raise ValueError(f"expected a protocol {PROTOCOL} handshake")
        env = data.get("env") or {}
        if not isinstance(env, dict):
            raise ValueError("env must be an object")
        return cls(
            stamp=str(data.get("stamp", "")),
            cwd=Path(str(data.get("cwd") or "/")),
            env={str(k): str(v) for k, v in env.items()},  # pyright: ignore[reportUnknownVariableType]
            query=str(data["query"]) if data.get("query") else None,
        )


def key_variables(config: SwitchboardConfig) -> list[str]:
    """The environment variables the config's enabled providers read their keys from (presets included)."""
    names: set[str] = set()
    for name, provider in config.providers.items():
        if provider.enabled:
            try:
                variable = ProviderSpec.from_config(name, provider).api_key_env
            except ValueError:
                continue  # an unknown preset: the session's server reports it when the provider is used
            if variable:
                names.add(variable)
    return sorted(names)


async def _send(stream: ByteStream, message: dict[str, Any]) -> None:
    await stream.send(json.dumps(message).encode() + b"\n")


async def _receive(reader: BufferedByteReceiveStream) -> bytes:
    return await reader.receive_until(b"\n", MAX_HANDSHAKE_BYTES)


def _session_settings(host: SessionHost, env: dict[str, str]) -> Settings:
    config = env.get("SWITCHBOARD_CONFIG")
    return host.settings.model_copy(update={"config": Path(config) if config else None})


@dataclass(frozen=True)
class Admission:
    """A session the handshake let in: what its MCP server is built from."""

    settings: Settings
    config: SwitchboardConfig
    env: dict[str, str]
    cwd: Path


async def _admit(
    host: SessionHost, stream: ByteStream, reader: BufferedByteReceiveStream, hello: Hello
) -> Admission | None:
    """Load the session's config and take the keys it names; None when the config is refused.

    The launcher is told ok before the MCP layer is imported (a cold service's first session): it relays at once,
    and ``initialize`` waits in the socket until the server reads it, as it would in a cold ``serve``.
    """
    if hello.env.get("SWITCHBOARD_DATABASE_URL") != host.settings.database_url:
        # The message names no URL: it may hold a password.
        await _send(stream, {"ok": False, "error": "this session's SWITCHBOARD_DATABASE_URL is not the service's"})
        return None
    settings = _session_settings(host, hello.env)
    try:
        config = load_config(settings, cwd=hello.cwd)
    except ConfigError as exc:
        await _send(stream, {"ok": False, "error": str(exc)})  # the launcher's fallback `serve` says it in full
        return None
    needed = key_variables(config)
    await _send(stream, {"send_keys": True})  # never a list of names: the launcher decides from its own reading
    keys = json.loads(await _receive(reader)).get("env") or {}
    env = {**hello.env, **{str(k): str(v) for k, v in keys.items() if str(k) in needed}}
    await _send(stream, {"ok": True})
    return Admission(settings, config, env, hello.cwd)


def _build(host: SessionHost, admission: Admission) -> MCPServer[Any]:
    from server.tools import SessionOptions, build_server

    options = SessionOptions(
        environ=admission.env,
        roots=default_roots(admission.env, admission.cwd),
        ingest=False,  # the service ingests once for everyone
        open_store=host.open_store,
        shared=host.shared_for(admission.config),
        tools=host.tools(),
    )
    return build_server(admission.settings, admission.config, options)


async def handle_connection(host: SessionHost, stream: ByteStream) -> None:
    """Serve one launcher connection from handshake to the end of its MCP session."""
    reader = BufferedByteReceiveStream(stream)
    async with stream:
        try:
            with anyio.fail_after(HANDSHAKE_TIMEOUT_S):
                hello = Hello.parse(await _receive(reader))
                if hello.query == "status":
                    await _send(stream, host.status())
                    return
                if hello.stamp != host.stamp:
                    logger.info("a launcher runs newer code: retiring")
                    host.retire()  # first: the socket path is gone before the launcher dials again
                    await _send(stream, {"restart": True})
                    return
                admission = await _admit(host, stream, reader, hello)
        except (
            TimeoutError,
            ValueError,
            anyio.EndOfStream,
            anyio.IncompleteRead,
            anyio.DelimiterNotFound,
            anyio.BrokenResourceError,
        ) as exc:
            logger.warning("dropped a connection during the handshake: %s", type(exc).__name__)
            return
        if admission is None:
            return
        await host.ready()
        from server.service.transport import serve_connection

        with host.active():
            await serve_connection(_build(host, admission), stream, reader)
