"""Running a configured check on a candidate: score rule, environment, timeout, output cap."""

from __future__ import annotations

import math
import pickle
import shlex
import sys
from pathlib import Path

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine.solve.check import FEEDBACK_CHARS, check_env, run_check, score_from
from server.engine.solve.search import NodeState, Refused, load_treequest, search

pytestmark = pytest.mark.anyio


def python(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


@given(st.floats(min_value=0, max_value=1), st.integers(min_value=-255, max_value=255))
def test_a_last_line_in_0_1_is_the_score_whatever_the_exit(value: float, code: int) -> None:
    assert score_from(f"noise\n{value!r}\n\n", code) == value


@given(st.text(), st.integers(min_value=-255, max_value=255))
def test_any_other_output_scores_by_exit_code_and_always_lands_in_0_1(stdout: str, code: int) -> None:
    score = score_from(stdout, code)
    assert 0.0 <= score <= 1.0 and not math.isnan(score)
    last = [line.strip() for line in stdout.splitlines() if line.strip()]
    try:
        parsed = float(last[-1]) if last else math.nan
    except ValueError:
        parsed = math.nan
    if not 0.0 <= parsed <= 1.0:
        assert score == (1.0 if code == 0 else 0.0)


def test_out_of_range_and_nan_last_lines_fall_back_to_the_exit_code() -> None:
    assert score_from("1.5", 0) == 1.0
    assert score_from("-0.2", 3) == 0.0
    assert score_from("nan", 1) == 0.0


def test_the_check_environment_keeps_no_provider_keys() -> None:
    env = {"PATH": "/bin", "HOME": "/h", "OPENAI_API_KEY": "sk-x", "ACME_KEY": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    assert check_env(env, "/private") == {"PATH": "/bin", "HOME": "/private"}


async def test_the_candidate_arrives_on_stdin_in_the_project_root_without_the_keys(tmp_path: Path) -> None:
    code = "import os,sys; print(sys.stdin.read(), os.getcwd(), sorted(os.environ)); print(0.25)"
    environ = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-secret"}
    result = await run_check(python(code), "the answer", cwd=tmp_path, timeout_s=20, environ=environ)
    assert result.score == 0.25 and result.exit_code == 0
    assert "the answer" in result.feedback and str(tmp_path) in result.feedback
    assert "OPENAI_API_KEY" not in result.feedback


async def test_a_hanging_check_is_killed_at_its_timeout_and_scores_zero(tmp_path: Path) -> None:
    with anyio.fail_after(10):
        result = await run_check(python("import time; time.sleep(60)"), "x", cwd=tmp_path, timeout_s=0.5, environ={})
    assert result.score == 0.0 and result.exit_code is None
    assert "timed out after 0.5 s" in result.feedback


async def test_a_check_that_cannot_start_scores_zero_with_the_reason(tmp_path: Path) -> None:
    result = await run_check("/no/such/check --flag", "x", cwd=tmp_path, timeout_s=5, environ={})
    assert result.score == 0.0 and "could not start" in result.feedback


async def test_a_flood_of_output_is_capped_and_the_feedback_is_its_tail(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.write('x' * 5_000_000); print(); print('FAILED at the end'); sys.exit(2)"
    with anyio.fail_after(20):
        result = await run_check(python(code), "x", cwd=tmp_path, timeout_s=15, environ={})
    assert result.score == 0.0 and result.exit_code == 2
    assert len(result.feedback) <= FEEDBACK_CHARS + 20


async def test_the_search_state_pickles_and_a_refused_start_ends_the_search() -> None:
    await load_treequest()
    made: list[NodeState] = []

    async def expand(model: str, parent: NodeState | None) -> NodeState:
        if len(made) == 3:
            raise Refused("cost cap")
        depth = 0 if parent is None else len(parent.node_id)
        state = NodeState("n" * (depth + 1), model, f"answer {len(made)}", 0.3, "said")
        made.append(state)
        return state

    with anyio.fail_after(10):
        end = await search(["m1", "m2"], expand, parallel=1, may_start=lambda: None, reached=lambda _s: False)
    assert end.stop_reason == "cost_cap" and len(made) == 3
    restored = pickle.loads(pickle.dumps(end.state))
    assert sorted(state.answer for state, _score in restored.tree.get_state_score_pairs()) == [
        "answer 0",
        "answer 1",
        "answer 2",
    ]
