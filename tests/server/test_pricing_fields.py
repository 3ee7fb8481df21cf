"""Every field Claude Code writes in a usage line, priced against numbers worked out by hand from Anthropic's
published rates (https://platform.claude.com/docs/en/about-claude/pricing), and the local arithmetic pinned to
genai-prices' own calculation.

Sonnet 4.5 per million tokens: $3 input, $15 output, $0.30 cache read, $3.75 5-minute cache write (1.25x input),
$6 1-hour cache write (2x input); a request over 200k input tokens (uncached + cache reads + cache writes) is
billed wholly at $6 / $22.50 / $0.60 / $7.50 / $12. Opus 5 fast mode (``speed: fast``): $10 / $50 / $1 /
$12.50 / $20.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from server.pricing import LinePrices, cost_usd

SONNET = "claude-sonnet-4-5-20250929"
OPUS_5 = "claude-opus-5"
WHEN = datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_uncached_input_costs_3_dollars_per_million() -> None:
    assert cost_usd(SONNET, input_tokens=100_000, when=WHEN) == pytest.approx(0.30, abs=1e-12)


def test_output_costs_15_dollars_per_million() -> None:
    assert cost_usd(SONNET, output_tokens=100_000, when=WHEN) == pytest.approx(1.50, abs=1e-12)


def test_a_cache_read_costs_a_tenth_of_input() -> None:
    assert cost_usd(SONNET, cache_read_tokens=100_000, when=WHEN) == pytest.approx(0.03, abs=1e-12)


def test_a_5_minute_cache_write_costs_1_25x_input() -> None:
    assert cost_usd(SONNET, cache_write_tokens=100_000, when=WHEN) == pytest.approx(0.375, abs=1e-12)


def test_a_1_hour_cache_write_costs_2x_input_not_the_5_minute_rate() -> None:
    cost = cost_usd(SONNET, cache_write_tokens=100_000, cache_write_1h_tokens=100_000, when=WHEN)
    assert cost == pytest.approx(0.60, abs=1e-12)


def test_a_mixed_cache_write_prices_each_part_at_its_own_rate() -> None:
    cost = cost_usd(SONNET, cache_write_tokens=100_000, cache_write_1h_tokens=40_000, when=WHEN)
    assert cost == pytest.approx(60_000 * 3.75e-6 + 40_000 * 6e-6, abs=1e-12)  # $0.225 + $0.24


def test_a_request_over_200k_input_tokens_is_billed_wholly_at_the_long_context_rate() -> None:
    # 10k uncached + 150k read + 50k written (20k for an hour) = 210k > 200k: every token at the premium rate.
    cost = cost_usd(
        SONNET,
        input_tokens=10_000,
        output_tokens=2_000,
        cache_read_tokens=150_000,
        cache_write_tokens=50_000,
        cache_write_1h_tokens=20_000,
        when=WHEN,
    )
    by_hand = 10_000 * 6 + 2_000 * 22.5 + 150_000 * 0.6 + 30_000 * 7.5 + 20_000 * 12
    assert cost == pytest.approx(by_hand / 1e6, abs=1e-12)  # $0.66


def test_a_request_of_exactly_200k_input_tokens_stays_at_the_base_rate() -> None:
    cost = cost_usd(SONNET, input_tokens=200_000, output_tokens=1_000, when=WHEN)
    assert cost == pytest.approx((200_000 * 3 + 1_000 * 15) / 1e6, abs=1e-12)


def test_fast_mode_is_priced_at_its_own_rates_and_a_standard_tier_changes_nothing() -> None:
    standard = cost_usd(OPUS_5, input_tokens=1_000, output_tokens=1_000, service_tier="standard", when=WHEN)
    fast = cost_usd(OPUS_5, input_tokens=1_000, output_tokens=1_000, speed="fast", when=WHEN)
    assert standard == pytest.approx((1_000 * 5 + 1_000 * 25) / 1e6, abs=1e-12)
    assert fast == pytest.approx((1_000 * 10 + 1_000 * 50) / 1e6, abs=1e-12)


def test_a_service_tier_that_changes_the_price_is_priced_at_that_tier() -> None:
    flex = cost_usd("gpt-5", provider="openai", input_tokens=1_000_000, service_tier="flex", when=WHEN)
    default = cost_usd("gpt-5", provider="openai", input_tokens=1_000_000, when=WHEN)
    assert default is not None and flex is not None and flex == pytest.approx(default / 2)


_MODELS = [SONNET, OPUS_5, "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805", "claude-3-5-haiku-20241022"]


@settings(max_examples=200, deadline=None)
@given(
    model=st.sampled_from(_MODELS),
    counts=st.tuples(*[st.integers(0, 300_000)] * 4),
    part=st.floats(0, 1),
    speed=st.sampled_from([None, "fast"]),
    day=st.dates(min_value=datetime(2025, 1, 1).date(), max_value=datetime(2026, 12, 31).date()),
)
def test_the_local_arithmetic_equals_genai_prices_own_calculation(
    model: str, counts: tuple[int, int, int, int], part: float, speed: str | None, day: object
) -> None:
    inp, out, read, write = counts
    write_1h = int(write * part)
    when = datetime.fromisoformat(f"{day}T08:00:00+00:00")
    usage = Usage(
        input_tokens=inp + read + write,
        output_tokens=out,
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
    )
    context = {"speed": speed} if speed else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = float(calc_price(usage, model, genai_request_timestamp=when, price_context=context).total_price)
    got = cost_usd(
        model,
        input_tokens=inp,
        output_tokens=out,
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
        speed=speed,
        when=when,
    )
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


_PRICE_CHANGE = datetime(2026, 3, 13, tzinfo=UTC)
"""claude-sonnet-4-6's and claude-opus-4-6's prices change on this day (genai-prices' data)."""
_MOMENTS = st.builds(
    lambda minutes, zone: (_PRICE_CHANGE + timedelta(minutes=minutes)).astimezone(zone),
    st.integers(-36 * 60, 36 * 60),
    st.sampled_from([UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=14))]),
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["claude-sonnet-4-6", "claude-opus-4-6", OPUS_5, "deepseek-chat", "gpt-5", "no-such"]),
            st.one_of(st.none(), _MOMENTS, _MOMENTS.map(lambda moment: moment.replace(tzinfo=None))),
            st.sampled_from([None, "standard", "flex", "priority"]),
            st.sampled_from([None, "fast"]),
            st.tuples(*[st.integers(0, 300_000)] * 4),
            st.floats(0, 1),
        ),
        max_size=12,
    )
)
def test_line_prices_equal_cost_usd_line_by_line(
    lines: list[tuple[str, datetime | None, str | None, str | None, tuple[int, int, int, int], float]],
) -> None:
    """The worker's per-transcript pricer, which resolves each (model, day, tier, speed) once, gives what
    cost_usd gives each line: Anthropic's tiers, a time-of-day price (genai-prices' own path), an unknown model,
    times in any zone or none."""
    prices = LinePrices()
    for model, when, tier, speed, (inp, out, read, write), part in lines:
        write_1h = int(write * part)
        got = prices.cost(model, when, tier, speed, (inp, out, read, write, write_1h))
        expected = cost_usd(
            model,
            input_tokens=inp,
            output_tokens=out,
            cache_read_tokens=read,
            cache_write_tokens=write,
            cache_write_1h_tokens=write_1h,
            service_tier=tier,
            speed=speed,
            when=when,
        )
        assert got == expected, (model, when, tier, speed)
