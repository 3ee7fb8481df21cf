"""Reading a judging model's reply: consensus's judge and solve's judge both ask for JSON."""

from __future__ import annotations

import json
import re

__all__ = ["JudgeError", "json_object"]

_FENCE = re.compile(r"```(?:json)?\s*(?P<body>\{.*?\})\s*```", re.S)


class JudgeError(ValueError):
    """The judge's reply cannot be used (no JSON, unknown labels, no scores); the message says why."""


def json_object(reply: str) -> object:
    """The JSON object in a model's reply (fenced or bare); :class:`JudgeError` if none."""
    fenced = _FENCE.search(reply)
    start = reply.find("{")
    if fenced:
        body = fenced.group("body")
    elif start < 0:
        raise JudgeError("the judge's reply holds no JSON object")
    else:
        end = reply.rfind("}")
        body = reply[start : end + 1] if end > start else reply[start:]
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise JudgeError(f"the judge's reply is not valid JSON: {exc}") from exc
