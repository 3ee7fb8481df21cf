from __future__ import annotations

import pytest

from server.analytics._claude_prices import claude_costs
from server.pricing import cost_usd


def _exact(model: str, uncached: int, output: int, cached: int) -> float | None:
    return cost_usd(model, input_tokens=uncached, output_tokens=output, cache_read_tokens=cached)


@pytest.mark.parametrize(
    "answers",
    [
        # below sonnet 4.5's 200k-token tier: the linear fast path
        [("claude-sonnet-4-5", 1200, 300, 0), ("claude-sonnet-4-5", 150_000, 9000, 40_000)],
        # one answer past the tier: every answer priced one by one
        [("claude-sonnet-4-5", 1200, 300, 0), ("claude-sonnet-4-5", 250_000, 9000, 10_000)],
        [("claude-haiku-4-5", 0, 0, 0), ("claude-opus-4-1", 10, 20, 30)],
    ],
)
def test_batch_prices_equal_the_price_table_answer_by_answer(answers: list[tuple[str, int, int, int]]) -> None:
    expected = [_exact(*answer) for answer in answers]
    assert claude_costs(answers) == pytest.approx(expected, rel=1e-9)


def test_a_tier_crossing_batch_keeps_the_higher_tier_price() -> None:
    (small, large) = claude_costs([("claude-sonnet-4-5", 1000, 0, 0), ("claude-sonnet-4-5", 300_000, 0, 0)])
    assert small is not None and large is not None
    assert large / 300 > small * 1.5  # $6 per million past 200k tokens against $3 below


def test_an_unpriced_model_costs_none_never_zero() -> None:
    assert claude_costs([("mystery-claude", 100, 100, 0), ("claude-haiku-4-5", 100, 0, 0)])[0] is None
