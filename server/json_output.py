"""JSON for people and programs to read: strict JSON, never ``NaN`` or ``Infinity``.

Python's ``json.dumps`` writes ``Infinity`` and ``NaN`` by default, which no JSON parser but Python's accepts. Every
value switchboard prints or serves goes through :func:`dumps`: a non-finite number (a store written before values
were checked, a sum that overflowed) is unknown, so it becomes ``null``, and ``allow_nan=False`` makes any that
slips past this a loud error instead of invalid output.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps", "finite"]


def finite(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth of dicts, lists and tuples, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`finite` ``(value)`` with ``allow_nan=False``."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
