"""``consensus``: ask several models at once and combine their answers by a strategy.

The modules: :mod:`.run` (one run's flow), :mod:`.registry` (the strategy interface), :mod:`.strategies` (one
class per strategy, and their rules), :mod:`.members` (scheduling), :mod:`.calls` (each call made, capped and
recorded; ``solve`` reuses it), :mod:`.judge`, :mod:`.agreement`, :mod:`.prompts`, :mod:`.cap`, :mod:`.record`,
:mod:`.result` and :mod:`.models`. The MCP tool is :mod:`server.tools.consensus`. Nothing is imported here, so
the tool's light imports (registry, strategies, members, prompts, models) do not load the run's store-bound parts
before ``initialize``.
"""
