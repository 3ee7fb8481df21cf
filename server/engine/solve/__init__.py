"""``solve``: an AB-MCTS search over several models, each node one answer, scored by a check or a judge.

The modules: :mod:`.run` (one run's flow), :mod:`.search` (drives TreeQuest), :mod:`.calls` (each call made, capped
and recorded), :mod:`.score` (a check and/or a judge), :mod:`.check`, :mod:`.prompts`, :mod:`.record`,
:mod:`.models` and :mod:`.compact` (what the client receives). The MCP tool is :mod:`server.tools.solve`. Nothing
is imported here, so the tool's light imports do not load the run's store-bound parts before ``initialize``.
"""
