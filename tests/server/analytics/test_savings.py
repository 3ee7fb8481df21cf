from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, savings
from tests.server.analytics.seed import add, delegation, session, subagent, usage

# Published per-million-token prices the hand computations use (genai-prices):
# claude-sonnet-4-5: $3 input, $15 output, $0.30 cache read (under 200k input tokens)
# claude-haiku-4-5: $1 input, $5 output, $0.10 cache read


def test_savings_on_a_hand_computed_example(engine: Engine) -> None:
    add(
        engine,
        # "a" ran mostly on haiku (most main-agent output), "b" has no usage: its first model is used.
        session("a", models=["claude-sonnet-4-5", "claude-haiku-4-5"]),
        usage("a", "claude-haiku-4-5", 1, 0.01, output_tokens=900),
        usage("a", "claude-sonnet-4-5", 2, 0.01, output_tokens=100),
        usage("a", "claude-sonnet-4-5", 3, 0.01, output_tokens=5000, agent_id="sub"),
        session("b", models=["claude-sonnet-4-5"]),
        # a: a failed first attempt, then groq answers 1,000 input tokens (200 of them cached) and 500 output
        delegation("a", 5, request_id="r1", provider="openai", model="gpt-4o", status="timeout", cost_usd=0.0004),
        delegation(
            "a", 6, request_id="r1", attempt=1, input_tokens=1000, cached_tokens=200, output_tokens=500, cost_usd=0.001
        ),
        delegation("b", 7, request_id="r2", input_tokens=2000, output_tokens=1000, cost_usd=0.002),
        subagent("a", "sub", 4, 0.01),
    )
    with Session(engine) as db:
        result = savings(db, Window())
    haiku_counterfactual = 800 * 1e-6 + 500 * 5e-6 + 200 * 0.1e-6  # 0.00332
    sonnet_counterfactual = 2000 * 3e-6 + 1000 * 15e-6  # 0.021
    actual = 0.0004 + 0.001 + 0.002
    assert result.counterfactual_usd == pytest.approx(haiku_counterfactual + sonnet_counterfactual)
    assert result.actual_usd == pytest.approx(actual)
    assert result.saved_usd == pytest.approx(haiku_counterfactual + sonnet_counterfactual - actual)
    assert result.claude_models == {"claude-haiku-4-5": 1, "claude-sonnet-4-5": 1}
    assert (result.delegated_calls, result.subagent_runs) == (2, 1)
    assert result.delegation_rate == pytest.approx(2 / 3)
    (route,) = result.by_route
    assert (route.provider, route.model, route.calls) == ("groq", "llama-3.3-70b-versatile", 2)
    assert "counterfactual" in result.method


def test_unpriced_delegations_and_unknown_claude_models_are_excluded_and_counted(engine: Engine) -> None:
    add(
        engine,
        session("a", models=[]),
        session("m", models=["mystery-claude"]),
        delegation("a", 1, provider="local", model="qwen", cost_usd=None, priced=False),
        delegation("a", 2, input_tokens=1000, output_tokens=0, cost_usd=0.0005),
        delegation("m", 3, cost_usd=0.001),
        delegation(None, 4, input_tokens=0, output_tokens=1000, cost_usd=0.001),
        delegation("a", 5, status="timeout", cost_usd=0.0),
    )
    with Session(engine) as db:
        result = savings(db, Window(), default_claude_model="claude-haiku-4-5")
    assert result.unpriced_calls == 2
    # the call with no session is no saving at all (it replaced no Claude work): neither priced nor unpriced
    assert result.priced_calls == 1
    # session "a" has no model at all: it falls back to the stated default
    assert result.claude_models == {"claude-haiku-4-5": 1}
    assert result.counterfactual_usd == pytest.approx(1000 * 1e-6)
    assert result.actual_usd == pytest.approx(0.0005)
    assert "claude-haiku-4-5" in result.method


def test_consensus_members_do_not_count_as_savings(engine: Engine) -> None:
    add(engine, session("a"), delegation("a", 1, consensus_run_id="c1"))
    with Session(engine) as db:
        result = savings(db, Window())
    assert (result.delegated_calls, result.saved_usd) == (0, 0)


def test_a_delegate_call_outside_any_claude_code_session_saves_nothing(engine: Engine) -> None:
    add(engine, session("a"), delegation(None, 1), delegation(None, 2))
    with Session(engine) as db:
        result = savings(db, Window())
    assert (result.delegated_calls, result.priced_calls, result.saved_usd) == (0, 0, 0)
    assert result.by_route == []


# claude-sonnet-4-5 writes to the prompt cache at $3.75 per million tokens (1.25 x input).


def test_a_delegations_saving_is_net_of_what_asking_and_reading_it_cost_claude(engine: Engine) -> None:
    add(
        engine,
        session("a", models=["claude-sonnet-4-5"]),
        # The session's main agent wrote 3 of every 4 new input tokens to the prompt cache.
        usage("a", "claude-sonnet-4-5", 1, 0.01, input_tokens=1000, cache_creation_tokens=3000, output_tokens=10),
        delegation(
            "a", 2, input_tokens=1000, output_tokens=500, cost_usd=0.001, claude_ask_tokens=200, claude_read_tokens=400
        ),
    )
    with Session(engine) as db:
        result = savings(db, Window())
    counterfactual = 1000 * 3e-6 + 500 * 15e-6
    overhead = 200 * 15e-6 + 400 * (0.75 * 3.75e-6 + 0.25 * 3e-6)
    assert result.claude_overhead_usd == pytest.approx(overhead)
    assert result.saved_usd == pytest.approx(counterfactual - 0.001 - overhead)
    assert result.by_route[0].claude_overhead_usd == pytest.approx(overhead)


def test_a_session_whose_delegations_cost_claude_more_than_they_saved_shows_a_negative_saving(
    engine: Engine,
) -> None:
    # Today's seeds: a one-line answer, but a long task written and a long result read back.
    add(
        engine,
        session("a", models=["claude-sonnet-4-5"]),
        delegation(
            "a", 2, input_tokens=30, output_tokens=5, cost_usd=0.0001, claude_ask_tokens=300, claude_read_tokens=600
        ),
    )
    with Session(engine) as db:
        result = savings(db, Window())
    assert result.saved_usd < 0
    assert result.saved_usd == pytest.approx(30 * 3e-6 + 5 * 15e-6 - 0.0001 - (300 * 15e-6 + 600 * 3e-6))


def test_calls_recorded_before_their_claude_overhead_are_left_out_and_counted_not_taken_as_free(
    engine: Engine,
) -> None:
    add(
        engine,
        session("a", models=["claude-sonnet-4-5"]),
        delegation("a", 2, claude_ask_tokens=None, claude_read_tokens=None),
        delegation("a", 3, cost_usd=0.001, claude_ask_tokens=10, claude_read_tokens=10),
    )
    with Session(engine) as db:
        result = savings(db, Window())
    assert (result.delegated_calls, result.priced_calls, result.unmeasured_calls) == (2, 2, 1)
    assert result.by_route[0].calls == 1


# claude-sonnet-4-5 reads from the prompt cache at $0.30 per million tokens.


def test_the_request_that_read_the_result_is_counted_whole_so_a_costly_delegation_shows_a_negative_saving(
    engine: Engine,
) -> None:
    # Issue 18 item 5, measured: Claude Code's own figures said delegating cost $0.0011 more while the saving
    # said +$0.0048, because the request after the tool_result re-reads the whole context from the cache.
    add(
        engine,
        session("a", models=["claude-sonnet-4-5"]),
        usage("a", "claude-sonnet-4-5", 1, 0.01, input_tokens=1000, cache_creation_tokens=3000, output_tokens=10),
        delegation(
            "a", 2, input_tokens=30, output_tokens=5, cost_usd=0.0001, claude_ask_tokens=200, claude_read_tokens=400
        ),
        # The request that read the tool_result: 50 new tokens, 600 written to the cache, 4,000 re-read from it.
        usage("a", "claude-sonnet-4-5", 3, 0.01, input_tokens=50, cache_read_tokens=4000, cache_creation_tokens=600),
        usage("a", "claude-sonnet-4-5", 4, 0.01, input_tokens=9999, cache_read_tokens=99999),  # a later turn
    )
    with Session(engine) as db:
        result = savings(db, Window())
    extra_request = 50 * 3e-6 + 4000 * 0.3e-6 + 600 * 3.75e-6
    overhead = 200 * 15e-6 + extra_request
    assert result.claude_overhead_usd == pytest.approx(overhead)
    assert result.saved_usd == pytest.approx(30 * 3e-6 + 5 * 15e-6 - 0.0001 - overhead) and result.saved_usd < 0
    assert "the extra request the call caused" in result.method


def test_parallel_calls_read_back_by_one_request_share_it(engine: Engine) -> None:
    add(
        engine,
        session("a", models=["claude-sonnet-4-5"]),
        delegation("a", 2, claude_ask_tokens=100, claude_read_tokens=400),
        delegation("a", 2.5, claude_ask_tokens=100, claude_read_tokens=400),
        usage("a", "claude-sonnet-4-5", 3, 0.01, input_tokens=0, cache_read_tokens=10000, cache_creation_tokens=0),
    )
    with Session(engine) as db:
        result = savings(db, Window())
    assert result.claude_overhead_usd == pytest.approx(2 * 100 * 15e-6 + 10000 * 0.3e-6)
