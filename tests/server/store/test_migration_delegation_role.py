"""Migration 0015: what a consensus or solve call was for moves from delegation.task_type to delegation.role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, text

from server.store.database import _alembic_config, make_engine, migrate

# (request_id, task_type written before 0015, consensus_run_id, solve_node_id)
_OLD_ROWS = [
    ("d1", "code_fix", None, None),
    ("d2", None, None, None),
    ("c1", "consensus", "c", None),
    ("c2", "consensus_judge", "c", None),
    ("c3", "consensus_grouping", "c", None),
    ("s1", "solve", None, "n1"),
    ("s2", "solve_judge", None, "n1"),
    ("x1", "solve", None, None),  # a delegate call that once passed task_type "solve": not a solve call
]


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _rows(engine: Engine) -> dict[str, tuple[str | None, ...]]:
    with engine.connect() as db:
        found = db.execute(text("SELECT * FROM delegation")).mappings().all()
    return {r["request_id"]: (r["task_type"], r.get("role")) for r in found}


def test_upgrading_moves_roles_out_of_task_type_and_downgrading_puts_them_back(bare_engine: Engine) -> None:
    config = _alembic_config(bare_engine)
    command.upgrade(config, "0014")
    with bare_engine.begin() as db:
        for request_id, task_type, run_id, node_id in _OLD_ROWS:
            db.execute(
                text(
                    "INSERT INTO delegation (request_id, attempt, provider, model, task_type, status, input_tokens, "
                    "output_tokens, cached_tokens, priced, cache_hit, consensus_run_id, solve_node_id, created_at) "
                    "VALUES (:r, 0, 'p', 'm', :t, 'ok', 0, 0, 0, true, false, :c, :n, CURRENT_TIMESTAMP)"
                ),
                {"r": request_id, "t": task_type, "c": run_id, "n": node_id},
            )
    migrate(bare_engine)
    assert _rows(bare_engine) == {
        "d1": ("code_fix", None),
        "d2": (None, None),
        "c1": (None, "member"),
        "c2": (None, "judge"),
        "c3": (None, "grouping"),
        "s1": (None, "solve"),
        "s2": (None, "solve_judge"),
        "x1": ("solve", None),
    }
    command.downgrade(config, "0014")
    assert _rows(bare_engine) == {request_id: (task_type, None) for request_id, task_type, _c, _n in _OLD_ROWS}
