"""The ``env`` block ``switchboard install --user --otel`` puts in ``~/.claude/settings.json``.

It makes Claude Code export its own OpenTelemetry logs (OTLP/HTTP JSON) to the service's receiver on loopback,
never anywhere else. Measured with Claude Code 2.1.328: ``env`` in user settings works; in a project's settings,
headless sessions exported nothing, so this is user scope only. Install records each key it puts (and what was
there before), so uninstall gives back exactly what it found.

The receiver takes telemetry only with this install's secret (:func:`otlp_secret`, 0600 under the home), which
Claude Code sends as a header from ``OTEL_EXPORTER_OTLP_HEADERS``: a web page or another local user cannot.
"""

from __future__ import annotations

from pathlib import Path

from server.token_file import token_file

__all__ = ["EXPORT_INTERVAL_MS", "OTLP_SECRET_FILE", "OTLP_SECRET_HEADER", "otel_env", "otlp_secret"]

OTLP_SECRET_HEADER = "x-switchboard-otlp-secret"
OTLP_SECRET_FILE = "otlp_secret"

EXPORT_INTERVAL_MS = 1000
"""Short: a headless session lives seconds, and its last batch must leave before it exits."""


def otlp_secret(home: Path) -> str:
    """The secret the receiver of the switchboard home ``home`` asks for, made on first use."""
    return token_file(home / OTLP_SECRET_FILE)


def otel_env(port: int, secret: str) -> dict[str, str]:
    """The settings ``env`` that makes Claude Code export its logs to the receiver on ``port`` with ``secret``."""
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"http://127.0.0.1:{port}/v1/logs",
        "OTEL_LOGS_EXPORT_INTERVAL": str(EXPORT_INTERVAL_MS),
        "OTEL_EXPORTER_OTLP_HEADERS": f"{OTLP_SECRET_HEADER}={secret}",
    }
