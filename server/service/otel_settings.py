"""The ``env`` block ``switchboard install --user --otel`` puts in ``~/.claude/settings.json``.

It makes Claude Code export its own OpenTelemetry logs (OTLP/HTTP JSON) to the service's receiver on loopback,
never anywhere else. Measured with Claude Code 2.1.328: ``env`` in user settings works; in a project's settings,
headless sessions exported nothing, so this is user scope only. Uninstall removes exactly these keys, and only
while they still hold what install wrote.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXPORT_INTERVAL_MS", "add_otel_env", "otel_env", "remove_otel_env"]

EXPORT_INTERVAL_MS = 1000
"""Short: a headless session lives seconds, and its last batch must leave before it exits."""
ENDPOINT_KEY = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"


def otel_env(port: int) -> dict[str, str]:
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        ENDPOINT_KEY: f"http://127.0.0.1:{port}/v1/logs",
        "OTEL_LOGS_EXPORT_INTERVAL": str(EXPORT_INTERVAL_MS),
    }


def add_otel_env(settings: dict[str, Any], port: int) -> None:
    env = settings.setdefault("env", {})
    if not isinstance(env, dict):
        raise ValueError('"env" in the settings file is not an object')
    env.update(otel_env(port))


def _ours(key: str, value: Any) -> bool:
    if key == ENDPOINT_KEY:
        return isinstance(value, str) and value.startswith("http://127.0.0.1:") and value.endswith("/v1/logs")
    return otel_env(0).get(key) == value


def remove_otel_env(settings: dict[str, Any]) -> None:
    env = settings.get("env")
    if not isinstance(env, dict):
        return
    for key in list(otel_env(0)):
        if key in env and _ours(key, env[key]):
            del env[key]
    if not env:
        del settings["env"]
