"""Which recorded outcomes are a verdict on the model: one rule for learned routing, ``stats`` and provider health.

An attempt's ``status`` is ``ok``, a provider fault (the model or its provider failed: a 5xx, a 429, a timeout, a
malformed answer, a cut connection, a failing CLI) or something that says nothing about the model: a missing or
wrong key, a config error (unknown model, SDK not installed, a request the provider refused as malformed), a
budget or cost-cap refusal, an open breaker, the client's cancellation or deadline. Only the first two count; the
others are still recorded under their own kind and shown as such. Unknown statuses do not count: a new kind of
outcome must be added here to weigh on a model.
"""

from __future__ import annotations

__all__ = ["MODEL_FAULTS", "counts_for_model", "is_model_fault"]

MODEL_FAULTS = frozenset({"timeout", "server_error", "rate_limited", "connection", "malformed", "cli_error"})
"""Failures that are the model's (or its provider's): they count against it."""


def is_model_fault(status: str) -> bool:
    """Whether ``status`` is a failure of the model or its provider."""
    return status in MODEL_FAULTS


def counts_for_model(status: str) -> bool:
    """Whether an attempt with ``status`` says something about the model: an answer or a fault of its own."""
    return status == "ok" or status in MODEL_FAULTS
