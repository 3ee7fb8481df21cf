"""The ``env`` block ``switchboard install --user --otel`` puts in ``~/.claude/settings.json``.

It makes Claude Code export its own OpenTelemetry logs (OTLP/HTTP JSON) to the service's receiver on loopback,
never anywhere else. Measured with Claude Code 2.1.328: ``env`` in user settings works; in a project's settings,
headless sessions exported nothing, so this is user scope only. Install records each key it puts (and what was
there before), so uninstall gives back exactly what it found.
"""

from __future__ import annotations

__all__ = ["EXPORT_INTERVAL_MS", "otel_env"]

EXPORT_INTERVAL_MS = 1000
"""Short: a headless session lives seconds, and its last batch must leave before it exits."""


def otel_env(port: int) -> dict[str, str]:
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"http://127.0.0.1:{port}/v1/logs",
        "OTEL_LOGS_EXPORT_INTERVAL": str(EXPORT_INTERVAL_MS),
    }
