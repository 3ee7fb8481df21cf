"""Other agent CLIs' own logs (Codex CLI, Gemini CLI) read into the store by ``switchboard import``.

One module per CLI (``codex``, ``gemini``): where its logs are, and how to read one into an
:class:`~server.store.agents.log.AgentLogRead`. ``imports`` writes what was read as rows. Finding and
reading the logs (``codex``, ``gemini``, ``log``) loads no database code.
"""

from __future__ import annotations

from server.store.agents import codex, gemini
from server.store.agents.log import AgentReader

__all__ = ["READERS", "AgentReader"]

READERS: dict[str, AgentReader] = {
    codex.AGENT: AgentReader(codex.AGENT, codex.PRICING_PROVIDER, codex.home, codex.find_logs, codex.read_log),
    gemini.AGENT: AgentReader(gemini.AGENT, gemini.PRICING_PROVIDER, gemini.home, gemini.find_logs, gemini.read_log),
}
