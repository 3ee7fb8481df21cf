"""The MCP layer, in one place: every tool switchboard serves, and :func:`build_server` that registers them.

``switchboard serve`` (stdio or streamable HTTP) and each session of the switchboard service build their server
here. One module per tool (``delegate``, ``consensus``, ``stats``, ``providers``, ``outputs``); ``app`` holds the
server and its lifespan. The deferred imports that keep ``initialize`` fast live in these modules and nowhere else:
a tool imports the engines, the store and the analytics inside its body, after :meth:`Runtime.warm` has loaded them
in a worker thread (``tests/server/test_startup_imports.py`` holds the line).
"""

from server.tools.app import INSTRUCTIONS, build_server

__all__ = ["INSTRUCTIONS", "build_server"]
