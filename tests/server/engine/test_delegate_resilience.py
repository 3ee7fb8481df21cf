"""Fallback order, Retry-After, timeouts, breakers and budgets, driven by scripted faults over real HTTP."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import Engine

from server.config import SwitchboardConfig
from server.engine.delegate import DelegateError, DelegateParams, delegate
from tests.fakes.openai_api import FakeOpenAI, Reply, closed_port
from tests.server.engine.conftest import Clock, MakeRuntime, delegations, events, make_config

pytestmark = pytest.mark.anyio


async def test_fallback_moves_down_the_list_past_a_hang_a_refused_connection_and_a_long_429(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI, second: FakeOpenAI
) -> None:
    config = make_config(fake, second, resilience={"timeout_s": 0.5, "max_retry_after_s": 1})
    config.providers["dead"] = config.providers["beta"].model_copy(
        update={"base_url": f"http://127.0.0.1:{closed_port()}/v1"}
    )
    # Interleaved providers, so list position alone orders them (no price tie-break within a provider).
    config.routing.default = ["acme:model-a", "dead:model-c", "acme:model-b", "beta:model-c"]
    fake.script("model-a", Reply(kind="hang"))
    fake.script("model-b", Reply.error(429, retry_after=60))
    runtime = make_runtime(config)
    with anyio.fail_after(20):
        result = await delegate(runtime, DelegateParams(task="write a haiku"))
    assert result.model == "beta:model-c"
    assert [(a.model, a.status) for a in result.decision.attempts] == [
        ("acme:model-a", "timeout"),
        ("dead:model-c", "connection"),
        ("acme:model-b", "rate_limited"),
        ("beta:model-c", "ok"),
    ]
    rows = delegations(engine)
    assert [(r.attempt, r.status) for r in rows] == [(0, "timeout"), (1, "connection"), (2, "rate_limited"), (3, "ok")]
    assert len({r.request_id for r in rows}) == 1
    assert rows[0].error is not None and "0.5" in rows[0].error
    # Refused requests cost nothing; a hang may have run the model, so its cost stays unknown, never $0.
    assert [r.cost_usd for r in rows[:3]] == [None, 0.0, 0.0]


async def test_a_short_retry_after_is_waited_out_and_the_same_model_retried(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    fake.script("model-a", Reply.error(429, retry_after=0.2))
    runtime = make_runtime(make_config(fake))
    started = anyio.current_time()
    with anyio.fail_after(20):
        result = await delegate(runtime, DelegateParams(task="hi"))
    assert result.model == "acme:model-a"
    assert anyio.current_time() - started >= 0.2
    assert fake.calls_for("model-a") == 2 and fake.calls_for("model-b") == 0
    assert [r.status for r in delegations(engine)] == ["rate_limited", "ok"]


async def test_every_candidate_failing_raises_one_error_listing_each_and_records_all(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    fake.script("model-a", Reply(kind="cut"))
    fake.script("model-b", Reply.error(502))
    runtime = make_runtime(make_config(fake))
    with anyio.fail_after(20), pytest.raises(DelegateError) as caught:
        await delegate(runtime, DelegateParams(task="hi"))
    message = str(caught.value)
    assert "acme:model-a: connection" in message and "acme:model-b: server_error" in message
    assert [r.status for r in delegations(engine)] == ["connection", "server_error"]


async def test_breaker_opens_skips_the_provider_then_a_probe_after_cooldown_closes_it(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI, second: FakeOpenAI
) -> None:
    clock = Clock()
    config = make_config(fake, second, resilience={"breaker_failures": 2, "breaker_cooldown_s": 30})
    config.routing.default = ["acme:model-a", "beta:model-c"]
    fake.script("model-a", Reply.error(500), Reply.error(500))
    runtime = make_runtime(config, clock)
    with anyio.fail_after(30):
        for _ in range(2):
            assert (await delegate(runtime, DelegateParams(task="hi"))).model == "beta:model-c"
        skipped = await delegate(runtime, DelegateParams(task="hi"))
        assert skipped.model == "beta:model-c"
        assert any("circuit open" in s.reason for s in skipped.decision.skipped)
        assert fake.calls_for("model-a") == 2
        clock.now += 31
        probe = await delegate(runtime, DelegateParams(task="hi"))
    assert probe.model == "acme:model-a"
    transitions = [e for e in events(engine) if e[1].startswith("breaker_")]
    assert transitions == [("acme", "breaker_open"), ("acme", "breaker_half_open"), ("acme", "breaker_closed")]
    assert ("acme", "error") in events(engine)


async def test_a_call_over_the_daily_cap_is_refused_before_any_request(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    config = make_config(fake, budgets={"daily_usd": 0.0001})
    config.routing.default = ["acme:model-a"]
    runtime = make_runtime(config)
    with anyio.fail_after(20), pytest.raises(DelegateError) as caught:
        await delegate(runtime, DelegateParams(task="x" * 40_000, max_tokens=2000))
    assert "daily cap" in str(caught.value) and "[budgets] daily_usd" in str(caught.value)
    assert fake.requests == []
    # Recorded as what it is, free: stats and the Delegations page show it, the model's record does not move.
    (row,) = delegations(engine)
    assert (row.model, row.status, row.cost_usd) == ("model-a", "budget", 0.0) and "daily cap" in (row.error or "")


async def test_the_session_cap_counts_earlier_calls_of_the_session(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    config = make_config(fake, budgets={"session_usd": 0.00004})
    config.routing.default = ["acme:model-a"]
    fake.script("model-a", Reply(input_tokens=10_000, output_tokens=10_000))
    runtime = make_runtime(config)
    with anyio.fail_after(20):
        first = await delegate(runtime, DelegateParams(task="hi", max_tokens=5))
        assert first.cost_usd == pytest.approx(0.03)
        with pytest.raises(DelegateError, match="session cap"):
            await delegate(runtime, DelegateParams(task="hi", max_tokens=5))
    assert fake.calls_for("model-a") == 1


async def test_an_unpriced_model_under_a_cap_runs_by_default_and_is_refused_when_the_config_says_so(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    allowing = make_config(fake, budgets={"daily_usd": 1.0})
    allowing.routing.default = ["acme:model-b"]  # unpriced in the config and in genai-prices
    with anyio.fail_after(20):
        allowed = await delegate(make_runtime(allowing), DelegateParams(task="hi"))
    assert allowed.cost_usd is None
    assert allowed.decision.budget is not None and 'unpriced = "allow"' in allowed.decision.budget
    refusing = make_config(fake, budgets={"daily_usd": 1.0, "unpriced": "refuse"})
    refusing.routing.default = ["acme:model-b"]
    with anyio.fail_after(20), pytest.raises(DelegateError, match='unpriced = "refuse"'):
        await delegate(make_runtime(refusing), DelegateParams(task="hi"))
    assert fake.calls_for("model-b") == 1


async def test_max_cost_usd_skips_dear_models_for_cheaper_ones(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    runtime = make_runtime(make_config(fake))
    # ~1,000 output tokens: model-a estimates ~$0.002; model-b is unpriced, so it cannot be estimated and may run.
    with anyio.fail_after(20):
        result = await delegate(runtime, DelegateParams(task="hi", max_cost_usd=0.0015))
    assert result.model == "acme:model-b"
    assert any(s.model == "acme:model-a" and "max_cost_usd" in s.reason for s in result.decision.skipped)


async def test_the_concurrency_limit_holds_calls_beyond_it(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    config = make_config(fake, resilience={"max_concurrency": 1})
    fake.script("*", Reply(delay_s=0.3), Reply(delay_s=0.3))
    runtime = make_runtime(config)
    started = anyio.current_time()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            for _ in range(2):
                group.start_soon(delegate, runtime, DelegateParams(task="hi"))
    assert anyio.current_time() - started >= 0.6


async def test_the_clients_tool_timeout_bounds_the_whole_fallback_chain(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    fake.script("model-a", Reply(kind="hang"))
    # MCP_TOOL_TIMEOUT is in milliseconds; the provider's own timeout (60 s) would outlast it.
    runtime = make_runtime(make_config(fake), environ={"MCP_TOOL_TIMEOUT": "1500"})
    started = anyio.current_time()
    with anyio.fail_after(20), pytest.raises(DelegateError) as caught:
        await delegate(runtime, DelegateParams(task="hi"))
    assert anyio.current_time() - started < 10, "bounded by the client's 1.5 s, not the provider's 60 s"
    message = str(caught.value)
    # The client's deadline cut it, not the provider's own timeout: not a fault of the model (issue 18).
    assert "acme:model-a: deadline: cut at" in message
    assert "acme:model-b: skipped: not tried: the client's tool timeout" in message
    assert fake.calls_for("model-b") == 0


async def test_a_cancelled_call_still_records_its_attempts_and_frees_the_breaker_probe(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    clock = Clock()
    config = make_config(fake, resilience={"breaker_failures": 1, "breaker_cooldown_s": 30})
    config.routing.default = ["acme:model-a"]
    fake.script("model-a", Reply.error(500), Reply(kind="hang"))
    runtime = make_runtime(config, clock)
    with anyio.fail_after(20):
        with pytest.raises(DelegateError):
            await delegate(runtime, DelegateParams(task="hi"))  # opens the breaker
        clock.now += 31
        with anyio.move_on_after(0.5):  # the caller gives up on the half-open probe
            await delegate(runtime, DelegateParams(task="hi"))
        result = await delegate(runtime, DelegateParams(task="hi"))
    assert result.model == "acme:model-a", "the next caller may probe again"
    assert [r.status for r in delegations(engine)] == ["server_error", "cancelled", "ok"]
    assert len({r.request_id for r in delegations(engine)}) == 3


async def test_a_written_default_is_tried_in_its_order_even_when_its_last_model_is_the_cheapest(
    engine: Engine, make_runtime: MakeRuntime
) -> None:
    # Issue 10's case: models of one provider listed back to back were re-sorted by price, ok-a tried first.
    with FakeOpenAI(models=["err500-x", "garbage-z", "ok-a"]) as acme:
        acme.script("err500-x", Reply.error(500))
        acme.script("garbage-z", Reply(kind="garbage"))
        price = {"input_per_mtok": 9.0, "output_per_mtok": 9.0}
        config = make_config(
            acme,
            providers={
                "acme": {
                    "base_url": acme.base_url,
                    "models": ["err500-x", "garbage-z", "ok-a"],
                    "prices": {
                        "err500-x": price,
                        "garbage-z": price,
                        "ok-a": {"input_per_mtok": 0.1, "output_per_mtok": 0.1},
                    },
                }
            },
            routing={"default": ["acme:err500-x", "acme:garbage-z", "acme:ok-a"]},
        )
        runtime = make_runtime(config)
        with anyio.fail_after(20):
            result = await delegate(runtime, DelegateParams(task="hi"))
    assert result.model == "acme:ok-a"
    assert [a.model for a in result.decision.attempts] == ["acme:err500-x", "acme:garbage-z", "acme:ok-a"]
    assert [row.model for row in delegations(engine)] == ["err500-x", "garbage-z", "ok-a"]


@pytest.mark.parametrize(
    ("reply", "status", "cost"),
    [
        (Reply.error(503), "server_error", 0.0),
        (Reply.error(429), "rate_limited", 0.0),
        (Reply(kind="cut"), "connection", None),
        (Reply(kind="hang"), "timeout", None),
    ],
    ids=["5xx", "429", "cut-stream", "timeout"],
)
async def test_a_refused_call_costs_nothing_and_one_the_model_may_have_run_costs_an_unknown_amount(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI, reply: Reply, status: str, cost: float | None
) -> None:
    config = make_config(fake, resilience={"timeout_s": 0.5})
    config.routing.default = ["acme:model-a"]
    fake.script("model-a", reply)
    with anyio.fail_after(20), pytest.raises(DelegateError):
        await delegate(make_runtime(config), DelegateParams(task="hi"))
    (row,) = delegations(engine)
    assert (row.status, row.cost_usd) == (status, cost)


async def test_a_refused_connection_costs_nothing(engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI) -> None:
    config = make_config(fake)
    config.providers["acme"] = config.providers["acme"].model_copy(
        update={"base_url": f"http://127.0.0.1:{closed_port()}/v1"}
    )
    config.routing.default = ["acme:model-a"]
    with anyio.fail_after(20), pytest.raises(DelegateError):
        await delegate(make_runtime(config), DelegateParams(task="hi"))
    (row,) = delegations(engine)
    assert (row.status, row.cost_usd) == ("connection", 0.0)


async def test_an_agent_cli_answer_is_unpriced_not_free(engine: Engine, make_runtime: MakeRuntime) -> None:
    config = SwitchboardConfig.model_validate(
        {"providers": {"gemini-cli": {"models": ["gemini-2.5-pro"], "command": ["echo", "{prompt}"]}}}
    )
    with anyio.fail_after(20):
        result = await delegate(make_runtime(config), DelegateParams(task="hi", model="gemini-cli:gemini-2.5-pro"))
    assert result.answer == "hi" and result.cost_usd is None
    (row,) = delegations(engine)
    assert (row.cost_usd, row.priced) == (None, False)
