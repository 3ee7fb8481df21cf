"""The MCP layer, in one place: every tool switchboard serves, and :func:`build_server` that registers them.

``switchboard serve`` (stdio or streamable HTTP) and each session of the switchboard service build their server
here. A tool is one module (``delegate``, ``consensus``, ``stats``, ...) and one entry in ``table`` (name, title,
annotations, its line in the server's instructions); ``app`` holds the server and its lifespan. The deferred imports
that keep ``initialize`` fast live in these modules and nowhere else: a tool imports the engines, the store and the
analytics inside its body, after :meth:`Runtime.warm` has loaded them in a worker thread
(``tests/server/test_startup_imports.py`` holds the line).
"""

from server.tools.app import INSTRUCTIONS, SessionOptions, build_server
from server.tools.table import TOOLS, build_tools

__all__ = ["INSTRUCTIONS", "TOOLS", "SessionOptions", "build_server", "build_tools"]
