"""The one module of analytics queries: the ``stats`` MCP tool and the dashboard both call these."""

from server.analytics.window import DEFAULT_DAYS, Window

__all__ = ["DEFAULT_DAYS", "Window"]
