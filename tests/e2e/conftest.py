"""Fixtures for tests that drive real clients against the fakes."""

from __future__ import annotations

from tests.fakes.anthropic_api import anthropic_api

__all__ = ["anthropic_api"]
