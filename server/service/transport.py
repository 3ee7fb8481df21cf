"""MCP over one launcher connection: newline-delimited JSON-RPC, exactly as the launcher relays it from stdio.

The SDK's ``stdio_server`` frames messages this way over the process's own stdin and stdout; here the same
framing runs over a socket stream, so each connection is an MCP session of its own in one process.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from anyio.abc import ByteStream
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp.server.mcpserver import MCPServer
from mcp.shared._context_streams import create_context_streams
from mcp.shared.message import SessionMessage

__all__ = ["MAX_MESSAGE_BYTES", "serve_connection"]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""A line longer than this ends the session (the stdio transport has no limit; a socket peer should have one)."""


async def serve_connection(server: MCPServer[Any], stream: ByteStream, reader: BufferedByteReceiveStream) -> None:
    """Run ``server`` (lifespan included) over ``stream`` until the peer closes it.

    ``reader`` wraps ``stream``'s receiving side and may hold bytes already read past the launcher's handshake.
    """
    read_writer, read_stream = create_context_streams[SessionMessage | Exception](0)
    write_stream, write_reader = create_context_streams[SessionMessage](0)

    async def receive() -> None:
        async with read_writer:
            while True:
                try:
                    line = await reader.receive_until(b"\n", MAX_MESSAGE_BYTES)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return
                if not line.strip():
                    continue
                try:
                    message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                except Exception as exc:
                    await read_writer.send(exc)
                    continue
                await read_writer.send(SessionMessage(message))

    async def send() -> None:
        async with write_reader:
            async for session_message in write_reader:
                data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                try:
                    await stream.send(data.encode() + b"\n")
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return

    lowlevel = server._lowlevel_server
    async with anyio.create_task_group() as group:
        group.start_soon(receive)
        group.start_soon(send)
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
        group.cancel_scope.cancel()
