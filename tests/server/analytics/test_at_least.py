"""A total that leaves unpriced usage out says "at least $X, n unpriced", in text, JSON and on the page."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from server.analytics.text import at_least, fmt_usd
from server.analytics.window import Window
from server.tools.stats import stats_text
from tests.server.analytics.seed import add, delegation


def test_unpriced_attempts_make_the_delegation_total_a_lower_bound_in_text_and_json(engine: Engine) -> None:
    add(engine, delegation("s", 1, cost_usd=0.5), delegation("s", 2, cost_usd=None, priced=False))
    text = stats_text(engine, Window(), "delegations")
    assert "cost at least $0.5000, 1 unpriced" in text
    from sqlmodel import Session

    from server.analytics.delegations import delegation_stats

    with Session(engine) as db:
        stats = delegation_stats(db, Window())
    assert stats.model_dump(mode="json")["cost_summary"] == "at least $0.5000, 1 unpriced"


@given(known=st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False), unpriced=st.integers(0, 10_000))
def test_a_total_is_bare_only_when_nothing_is_unpriced(known: float | None, unpriced: int) -> None:
    shown = at_least(known, unpriced)
    if unpriced:
        assert shown.startswith("at least $") and shown.endswith(f", {unpriced} unpriced")
    else:
        assert shown == fmt_usd(known)
