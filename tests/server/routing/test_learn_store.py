"""routing_stat folded as rows are written equals routing_stat rebuilt from the rows (the oracle)."""

from __future__ import annotations

import contextlib
import random
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col

from server.routing.feedback import FeedbackError, give_feedback
from server.routing.learn import Evidence
from server.routing.learn_store import load, load_for, rebuild
from server.store.models import AgentSession, ConsensusRun, Delegation, utcnow
from tests.server.routing.recording import save_rows

STATUSES = ["ok", "ok", "ok", "server_error", "timeout", "rate_limited", "circuit_open", "cancelled"]
MODELS = [("p", "a"), ("p", "b"), ("q", "c")]


def random_batches(seed: int) -> list[list[SQLModel]]:
    rng = random.Random(seed)
    start = utcnow() - timedelta(days=3)
    batches: list[list[SQLModel]] = []
    for n in range(40):
        at = start + timedelta(minutes=n * 7)
        rows: list[SQLModel] = []
        if rng.random() < 0.2:
            run = ConsensusRun(id=f"run{n}", strategy="vote", question=rng.choice(["fix the bug", "design a page"]))
            rows.append(run)
            for slot, (provider, model) in enumerate(MODELS):
                rows.append(
                    Delegation(
                        request_id=run.id,
                        attempt=slot,
                        provider=provider,
                        model=model,
                        role="member",
                        status="ok",
                        consensus_run_id=run.id,
                        quality=rng.choice([None, 0.0, 1.0, 0.7]),
                        created_at=at,
                    )
                )
        for attempt in range(rng.randint(1, 3)):
            provider, model = rng.choice(MODELS)
            status = rng.choice(STATUSES)
            rows.append(
                Delegation(
                    session_id="s",
                    request_id=f"req{n}",
                    attempt=attempt,
                    provider=provider,
                    model=model,
                    task_type=rng.choice(["code_fix", "ui", None]),
                    status=status,
                    latency_ms=rng.choice([None, rng.uniform(5, 900)]),
                    cost_usd=rng.choice([None, rng.uniform(0, 0.01)]) if status == "ok" else None,
                    cache_hit=rng.random() < 0.1,
                    created_at=at,
                )
            )
        batches.append(rows)
    return batches


def rounded(totals: dict[tuple[str, str], Evidence]) -> dict[tuple[str, str], tuple[object, ...]]:
    def one(e: Evidence) -> tuple[object, ...]:
        sums = (round(e.latency_ms_sum, 6), round(e.cost_usd_sum, 9), round(e.quality_sum, 9))
        return (e.calls, e.successes, e.latency_n, e.cost_n, e.quality_n, *sums, e.last_at)

    return {key: one(e) for key, e in totals.items() if not e.empty}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_totals_folded_as_rows_are_written_equal_totals_rebuilt_from_the_rows(engine: Engine, seed: int) -> None:
    for rows in random_batches(seed):
        save_rows(engine, rows)
    for request_id, good in [("req1", False), ("req2", True), ("req1", True)]:
        with contextlib.suppress(FeedbackError):  # a request no model answered: nothing to judge
            give_feedback(engine, request_id, good, session_id="s")
    folded = rounded(load(engine))
    assert folded
    rebuild(engine)
    assert rounded(load(engine)) == folded


def _answered(request_id: str, model: str) -> Delegation:
    return Delegation(
        session_id="s", request_id=request_id, attempt=0, provider="p", model=model, task_type="ui", status="ok"
    )


def test_a_projects_learner_counts_its_own_and_the_dashboards_feedback_and_no_other_projects(engine: Engine) -> None:
    save_rows(engine, [_answered(f"r{i}", "a") for i in range(6)])
    verdicts = [("r0", False, "/x"), ("r1", False, "/x"), ("r2", True, "/y"), ("r3", True, None), ("r4", False, "/x")]
    for request_id, good, project in verdicts:
        give_feedback(engine, request_id, good, session_id="s", project_dir=project)
    give_feedback(engine, "r4", True, session_id="s", project_dir="/x")  # replaces r4's verdict: the last counts
    everything = load(engine)[("ui", "p:a")]
    in_x, in_y, nowhere = (load_for(engine, project)[("ui", "p:a")] for project in ("/x", "/y", None))
    assert (everything.quality_n, everything.quality_sum) == (5, 3.0)
    assert (in_x.quality_n, in_x.quality_sum) == (4, 2.0)  # r0, r1, r4 of /x and the dashboard's r3
    assert (in_y.quality_n, in_y.quality_sum) == (2, 2.0)  # r2 of /y and r3
    assert (nowhere.quality_n, nowhere.quality_sum) == (1, 1.0)
    assert in_x.calls == in_y.calls == nowhere.calls == everything.calls == 6  # outcomes are every project's


def test_migration_0006_backfills_the_totals_from_delegations_already_stored(database_url: str) -> None:
    from sqlalchemy import text

    from server.store.database import make_engine, migrate

    store = make_engine(database_url)
    try:
        migrate(store, "0004")
        insert = text(
            "INSERT INTO delegation (request_id, attempt, provider, model, task_type, status, input_tokens, "
            "output_tokens, cached_tokens, cost_usd, priced, latency_ms, cache_hit, created_at) VALUES "
            "(:r, 0, 'p', 'a', 'code_fix', :s, 0, 0, 0, :c, true, 10.0, false, :t)"
        )
        with store.begin() as conn:
            for n, (status, cost) in enumerate(
                [("ok", 0.5), ("server_error", None), ("ok", None), ("cancelled", None)]
            ):
                conn.execute(insert, {"r": f"r{n}", "s": status, "c": cost, "t": utcnow()})
        migrate(store)
        backfilled = rounded(load(store))
        rebuild(store)
        assert rounded(load(store)) == backfilled
        [evidence] = load(store).values()
        assert (evidence.calls, evidence.successes, evidence.cost_n, evidence.latency_n) == (3, 2, 1, 2)
    finally:
        store.dispose()


def test_two_writers_at_once_both_count(engine: Engine) -> None:
    import threading

    def write(name: str) -> None:
        for n in range(20):
            save_rows(
                engine, [Delegation(request_id=f"{name}{n}", provider="p", model="a", task_type="t", status="ok")]
            )

    writers = [threading.Thread(target=write, args=(name,)) for name in ("x", "y")]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    [evidence] = load(engine).values()
    assert (evidence.calls, evidence.successes) == (40, 40)


@pytest.mark.parametrize("seed", [4, 5])
def test_what_a_process_adds_in_memory_equals_what_the_store_then_holds(engine: Engine, seed: int) -> None:
    from server.config import LearnConfig
    from server.routing.learn import Learner
    from server.routing.learn_store import learned_from

    mine = Learner(LearnConfig())
    mine.replace({})
    for rows in random_batches(seed):
        taught = learned_from(rows)
        save_rows(engine, rows)
        mine.add(taught)
    stored = load(engine)
    assert rounded({key: mine.evidence(*key) for key in stored}) == rounded(stored)


def test_switchboard_relearn_rebuilds_the_totals_from_the_rows(
    engine: Engine, settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import delete, update

    from server.cli import main
    from server.store.models import RoutingStat

    for rows in random_batches(6):
        save_rows(engine, rows)
    folded = rounded(load(engine))
    with Session(engine) as db:
        # A hand edit the totals did not see: one pair's row damaged, another's lost.
        first, second = sorted(folded)[:2]
        damaged = (col(RoutingStat.task_type) == first[0]) & (col(RoutingStat.model) == first[1])
        lost = (col(RoutingStat.task_type) == second[0]) & (col(RoutingStat.model) == second[1])
        db.connection().execute(update(RoutingStat).where(damaged).values(calls=999))
        db.connection().execute(delete(RoutingStat).where(lost))
        db.commit()
    assert rounded(load(engine)) != folded
    assert main(["relearn"]) == 0
    assert f"{len(folded)} (task type, model) pairs" in capsys.readouterr().out
    assert rounded(load(engine)) == folded


@pytest.mark.parametrize("seed", [4, 5])
def test_each_persons_totals_fold_apart_beside_the_whole_stores_and_rebuild_the_same(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    with Session(engine) as db:
        db.add(AgentSession(session_id="s", user="ann", host="a1"))
        db.commit()
    for rows in random_batches(seed):
        for row in rows:
            if isinstance(row, Delegation):
                row.user = rng.choice(["ann", "ben"])
        save_rows(engine, rows)
    with contextlib.suppress(FeedbackError):
        give_feedback(engine, "req2", True, session_id="s")
    team, ann, ben = (rounded(load(engine, user)) for user in ("", "ann", "ben"))
    assert ann and ben and ann != ben
    for key in team:
        # The whole store's calls are the people's added up.
        calls = [load(engine, user).get(key, Evidence()).calls for user in ("", "ann", "ben")]
        assert calls[0] == calls[1] + calls[2]
    rebuild(engine)
    assert (rounded(load(engine)), rounded(load(engine, "ann")), rounded(load(engine, "ben"))) == (team, ann, ben)


def test_scope_user_makes_the_learner_read_only_its_persons_totals(engine: Engine) -> None:
    from server.config import LearnConfig
    from server.routing.learn import Learner
    from server.routing.learn_store import refresh
    from server.team import current_identity

    me = current_identity().user
    save_rows(engine, [Delegation(request_id="r1", provider="p", model="a", task_type="ui", status="ok", user=me)])
    save_rows(
        engine, [Delegation(request_id="r2", provider="p", model="a", task_type="ui", status="timeout", user="zed")]
    )
    mine, everyone = Learner(LearnConfig(scope="user")), Learner(LearnConfig())
    refresh(mine, engine)
    refresh(everyone, engine)
    assert (mine.evidence("ui", "p:a").calls, everyone.evidence("ui", "p:a").calls) == (1, 2)
