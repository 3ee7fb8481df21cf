"""Check a model id or task type the caller named, so a typo is an error that lists the valid choices.

Without this, an explicit ``model`` whose provider is not configured was silently answered by another model,
and one missing from its provider's ``models`` was sent anyway and failed with the endpoint's 404.
"""

from __future__ import annotations

from server.providers.registry import Registry, split_model_id
from server.task_types import TASK_TYPES

__all__ = ["model_error", "task_type_error"]


def model_error(registry: Registry, model_id: str) -> str | None:
    """Why ``model_id`` cannot be used (not ``provider:model``, provider or model not configured), else None.

    A provider that lists no models accepts any: its endpoint decides.
    """
    try:
        provider, model = split_model_id(model_id)
    except ValueError as exc:
        return f"{exc}; {_valid(registry)}"
    spec = registry.specs.get(provider)
    if spec is None:
        return f"model {model_id!r}: no provider {provider!r} is configured; {_valid(registry)}"
    if spec.models and model not in spec.models:
        return f"model {model_id!r}: {provider!r} does not list {model!r} in its models; {_valid(registry)}"
    return None


def task_type_error(task_type: str) -> str | None:
    """Why ``task_type`` is not one routing knows, else None."""
    if task_type in TASK_TYPES:
        return None
    return f"unknown task_type {task_type!r}: valid ones are {', '.join(TASK_TYPES)} (or omit it to classify)"


def _valid(registry: Registry) -> str:
    ids = [info.id for info in registry.models()]
    if not ids:
        return "no model is configured (add [providers.NAME] with models = [...])"
    return f"valid ids are {', '.join(ids)} (the providers tool lists them)"
