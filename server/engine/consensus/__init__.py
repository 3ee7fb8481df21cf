"""``consensus``: ask several models at once and combine their answers by a strategy.

The modules: :mod:`.run` (one run's flow), :mod:`.registry` (the strategy interface), :mod:`.strategies` (one
class per strategy, and their rules), :mod:`.members` (scheduling), :mod:`.calls` (each call's row, on the shared
:mod:`server.engine.runs` core that caps, reserves and records), :mod:`.judge`, :mod:`.agreement`,
:mod:`.prompts`, :mod:`.result`, :mod:`.models` and :mod:`.compact` (what the client receives). The MCP tool is
:mod:`server.tools.consensus`. Nothing is imported here, so
the tool's light imports (registry, strategies, members, prompts, models) do not load the run's store-bound parts
before ``initialize``.
"""
