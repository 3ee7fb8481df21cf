from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, provider_health
from tests.server.analytics.seed import add, at, delegation, provider_event


def test_health_counts_breaker_openings_and_error_classes_per_provider_and_hour(engine: Engine) -> None:
    add(
        engine,
        delegation(None, 1, provider="openai", status="timeout"),
        delegation(None, 2, provider="openai", status="timeout"),
        delegation(None, 70, provider="openai", status="rate_limited"),
        delegation(None, 71, provider="openai"),
        delegation(None, 3, provider="groq"),
        provider_event("openai", "breaker_open", 2.5),
        provider_event("openai", "breaker_half_open", 40),
        provider_event("openai", "breaker_open", 72),
        provider_event("openai", "error", 72, error_class="timeout"),
    )
    with Session(engine) as db:
        report = provider_health(db, Window(), bucket=timedelta(hours=1))
    openai, groq = report.providers
    assert (openai.provider, openai.calls, openai.failures, openai.breaker_opens) == ("openai", 4, 3, 2)
    assert openai.errors == {"timeout": 2, "rate_limited": 1}
    assert openai.error_rate == 0.75
    assert openai.breaker_state == "open"
    assert openai.last_failure_at == at(70)
    assert (groq.calls, groq.failures, groq.error_rate) == (1, 0, 0.0)
    hours = {(b.start, b.provider): b for b in report.timeline}
    first, second = hours[(at(0), "openai")], hours[(at(60), "openai")]
    assert (first.calls, first.failures, first.breaker_opens, first.errors) == (2, 2, 1, {"timeout": 2})
    assert (second.calls, second.failures, second.breaker_opens) == (2, 1, 1)
    assert report.bucket_s == 3600
