"""The switchboard service: one warm process per user and home behind every Claude Code session.

:mod:`~server.service.daemon` runs it; :mod:`~server.service.instance` keeps it single; the launcher
(``hooks/launcher.py``) dials it and :mod:`~server.service.sessions` admits each connection as its own MCP session;
:mod:`~server.service.http` serves the dashboard and the OTLP receiver (:mod:`~server.service.telemetry`).
"""
