"""Fake models whose answers improve when refined, a check that scores them, and a server to call ``solve`` on.

A fresh answer from model M is ``quality=<base>``; a refinement of a parent ``quality=q`` is
``quality=<q + step>`` (capped at 1), so a model's k-th refinement scores ``base + k * step``. The check reads the
answer on stdin and prints the quality (the score).
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import Client
from sqlalchemy import Engine

from server.config import SwitchboardConfig
from server.settings import Settings
from server.tools.app import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI, Reply

__all__ = ["CHECK_SCRIPT", "Quality", "check_command", "refining", "solve_client", "solve_config"]

_QUALITY = re.compile(r"quality=([0-9.]+)")
_PARENT = re.compile(r"## A previous answer \(scored [0-9.]+ of 1\)\n(?P<answer>.*?)\n\n## What the scorer said", re.S)

CHECK_SCRIPT = """
import re, sys, time
answer = sys.stdin.read()
if "hang" in answer:
    time.sleep(60)
found = re.search(r"quality=([0-9.]+)", answer)
quality = float(found.group(1)) if found else 0.0
if "fail" in answer:
    print(f"FAILED test_parser: quality {quality}")
    sys.exit(1)
print("checked")
print(quality)
"""


@dataclass(frozen=True)
class Quality:
    """A model's one-shot quality and what each refinement adds."""

    base: float
    step: float
    extra: str = ""
    """Appended to every answer (``hang`` or ``fail`` steer the check)."""


def _last_user(body: dict[str, Any]) -> str:
    messages = body.get("messages", [])
    return next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")


def refining(qualities: dict[str, Quality], **reply: Any) -> Callable[[dict[str, Any]], Reply | None]:
    """A fake responder: model answers improve by their step each time they refine a parent."""

    def respond(body: dict[str, Any]) -> Reply | None:
        quality = qualities.get(str(body.get("model", "")))
        if quality is None:
            return None
        parent = _PARENT.search(_last_user(body))
        found = _QUALITY.search(parent.group("answer")) if parent else None
        value = quality.base if found is None else float(found.group(1)) + quality.step
        text = f"{body.get('model')}: quality={min(1.0, round(value, 4))}{quality.extra}"
        return Reply(text=text, **reply)

    return respond


def check_command(tmp_path: Path) -> str:
    script = tmp_path / "check.py"
    script.write_text(CHECK_SCRIPT, encoding="utf-8")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def solve_config(fake: FakeOpenAI, models: list[str], tmp_path: Path, **sections: Any) -> SwitchboardConfig:
    solve: dict[str, Any] = {"checks": {"quality": check_command(tmp_path)}, **sections.pop("solve", {})}
    providers: dict[str, Any] = {
        "pf": {"kind": "openai-compatible", "base_url": fake.base_url, "models": models, **sections.pop("pf", {})}
    }
    data: dict[str, Any] = {"providers": providers, "routing": {"default": [f"pf:{m}" for m in models]}}
    data["solve"] = solve
    data.update(sections)
    return SwitchboardConfig.model_validate(data)


def solve_client(settings: Settings, engine: Engine, config: SwitchboardConfig, tmp_path: Path) -> Client:
    server = build_server(settings, config, SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False))
    return Client(server)
