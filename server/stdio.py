"""Run the MCP server over stdio as a process that ends promptly: on stdin EOF, SIGINT or SIGTERM.

Claude Code, at exit, sends its stdio MCP servers SIGINT and, about 100 ms later, SIGTERM. Two things made
``switchboard serve`` miss that window. The MCP SDK reads stdin in a worker thread, and a ``read()`` blocked on
an open pipe cannot be interrupted, so after a signal the server waited for a line or EOF that never came
(SIGTERM then killed it, cutting any pending write). And the interpreter's own teardown, once SQLAlchemy and
the rest are loaded, took 0.25-0.35 s here. So the SDK reads a pipe of ours, fed from stdin by a daemon thread,
which a signal ends as EOF would; and once the server has cleaned up, the process exits without the teardown.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

__all__ = ["StdinPump", "run_stdio"]

logger = logging.getLogger(__name__)

_CHUNK = 65_536


class StdinPump:
    """Puts a pipe between the process's stdin (fd 0) and whoever reads fd 0 next, and copies stdin into it.

    :meth:`end` gives the reader EOF at once, whatever stdin does; a daemon thread does the copying, so a read
    blocked on stdin never holds up the process's exit.
    """

    def __init__(self) -> None:
        self._source = os.dup(0)
        read_end, self._sink = os.pipe()
        os.dup2(read_end, 0)
        os.close(read_end)
        self._thread = threading.Thread(target=self._pump, name="stdin pump", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            while chunk := os.read(self._source, _CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(self._sink, view) :]
        except OSError:
            logger.debug("stdin pump stopped", exc_info=True)
        self.end()

    def end(self) -> None:
        """Close the pipe's write end: the reader sees EOF. Safe to call more than once, from any thread."""
        # dup2 over the descriptor rather than close it: the pump thread may still write to this number, and a
        # closed number could be reused by a file opened meanwhile. Now its writes go to /dev/null.
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self._sink)
        finally:
            os.close(null)


async def _serve(server: MCPServer[Any], pump: StdinPump) -> None:
    async with anyio.create_task_group() as group:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    logger.debug("%s: shutting down", signal.Signals(signum).name)
                    pump.end()  # the SDK's reader thread returns, so cancelling does not wait on it
                    group.cancel_scope.cancel()

        group.start_soon(stop_on_signal)
        await server.run_stdio_async()
        group.cancel_scope.cancel()


def run_stdio(server: MCPServer[Any]) -> NoReturn:
    """Serve ``server`` over stdin and stdout until stdin closes or SIGINT or SIGTERM arrives, then end the process.

    The server's lifespan cleans up first (pending rows are written); what the interpreter would do after that
    (joining idle worker threads, tearing down modules) is skipped.
    """
    pump = StdinPump()
    code = 0
    try:
        anyio.run(_serve, server, pump)
    except KeyboardInterrupt:  # SIGINT before the event loop took the signal over
        code = 130
    except BaseException:
        logger.exception("the MCP server stopped on an error")
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
