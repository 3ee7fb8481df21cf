"""Cache, threads (across models and restarts), files from the project only, output limits, records."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from server.engine.delegate import DelegateError, DelegateParams, delegate
from server.engine.files import MAX_FILE_BYTES
from server.store.models import StoredOutput, Thread, ThreadMessage
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.engine.conftest import Clock, MakeRuntime, delegations, make_config
from tests.server.recorded import recorded

pytestmark = pytest.mark.anyio


async def test_identical_request_is_a_cache_hit_with_zero_cost_when_cache_is_on(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    clock = Clock()
    runtime = make_runtime(make_config(fake, cache={"enabled": True, "ttl_s": 60}), clock)
    with anyio.fail_after(20):
        first = await delegate(runtime, DelegateParams(task="same question"))
        second = await delegate(runtime, DelegateParams(task="same question"))
        clock.now += 61
        third = await delegate(runtime, DelegateParams(task="same question"))
    assert (first.cache_hit, second.cache_hit, third.cache_hit) == (False, True, False)
    assert second.answer == first.answer and second.cost_usd == 0.0
    assert fake.calls_for("model-a") == 2
    rows = delegations(engine)
    assert [r.cache_hit for r in rows] == [False, True, False]
    assert rows[1].cost_usd == 0.0 and rows[1].priced


async def test_a_different_parameter_misses_the_cache(make_runtime: MakeRuntime, fake: FakeOpenAI) -> None:
    runtime = make_runtime(make_config(fake, cache={"enabled": True}))
    with anyio.fail_after(20):
        await delegate(runtime, DelegateParams(task="q", max_tokens=10))
        result = await delegate(runtime, DelegateParams(task="q", max_tokens=20))
    assert not result.cache_hit and fake.calls_for("model-a") == 2


async def test_cache_is_off_unless_enabled(make_runtime: MakeRuntime, fake: FakeOpenAI) -> None:
    runtime = make_runtime(make_config(fake))
    with anyio.fail_after(20):
        await delegate(runtime, DelegateParams(task="q"))
        result = await delegate(runtime, DelegateParams(task="q"))
    assert not result.cache_hit and fake.calls_for("model-a") == 2


async def test_thread_continues_across_models_and_a_restart(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    fake.script("model-a", Reply(text="Paris."))
    with anyio.fail_after(20):
        before = make_runtime(make_config(fake))
        first = await delegate(before, DelegateParams(task="Capital of France?"))
        await before.close_recorder()  # the server stops (writing what it holds)
        # A new runtime on the same store stands for a restarted server.
        restarted = make_runtime(make_config(fake))
        follow = DelegateParams(task="And its population?", thread_id=first.thread_id, model="acme:model-b")
        second = await delegate(restarted, follow)
    assert second.thread_id == first.thread_id and second.model == "acme:model-b"
    sent = fake.requests[-1]["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "And its population?"),
    ]
    with recorded(engine) as db:
        assert db.get(Thread, first.thread_id) is not None
        models = [m.model for m in db.exec(select(ThreadMessage).where(ThreadMessage.role == "assistant")).all()]
    assert models == ["acme:model-a", "acme:model-b"]


async def test_an_unknown_thread_id_is_a_clear_error(make_runtime: MakeRuntime, fake: FakeOpenAI) -> None:
    with anyio.fail_after(20), pytest.raises(DelegateError, match="unknown thread_id"):
        await delegate(make_runtime(make_config(fake)), DelegateParams(task="q", thread_id="nope"))
    assert fake.requests == []


async def test_files_inside_the_project_are_sent_along(
    make_runtime: MakeRuntime, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hi')\n")
    with anyio.fail_after(20):
        await delegate(make_runtime(make_config(fake)), DelegateParams(task="review", files=["src/app.py"]))
    content = fake.requests[-1]["messages"][-1]["content"]
    assert content.startswith("review") and "File: src/app.py" in content and "print('hi')" in content


@pytest.mark.parametrize("where", ["absolute", "dotdot", "symlink"])
async def test_files_outside_the_project_are_refused_with_the_reason(
    make_runtime: MakeRuntime, fake: FakeOpenAI, tmp_path: Path, where: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    path = {"absolute": str(secret), "dotdot": "../secret.txt", "symlink": "link.txt"}[where]
    if where == "symlink":
        os.symlink(secret, project / "link.txt")
    runtime = make_runtime(make_config(fake), roots=[project])
    with anyio.fail_after(20), pytest.raises(DelegateError, match="outside the project root"):
        await delegate(runtime, DelegateParams(task="read", files=[path]))
    assert fake.requests == []


async def test_a_file_over_the_size_cap_is_refused(make_runtime: MakeRuntime, fake: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * (MAX_FILE_BYTES + 1))
    with anyio.fail_after(20), pytest.raises(DelegateError, match="cap"):
        await delegate(make_runtime(make_config(fake)), DelegateParams(task="read", files=["big.txt"]))


async def test_an_answer_over_the_output_limit_is_cut_and_stored_whole(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    full = "".join(f"line {i}\n" for i in range(5_000))
    fake.script("model-a", Reply(text=full))
    runtime = make_runtime(make_config(fake, output={"max_output_tokens": 2_000}))
    with anyio.fail_after(20):
        result = await delegate(runtime, DelegateParams(task="long"))
    assert result.truncated and result.output_id is not None
    assert len(result.answer) <= 2_000 * 3 and "get_output" in result.answer
    with recorded(engine) as db:
        stored = db.get(StoredOutput, result.output_id)
    assert stored is not None and stored.content == full and stored.session_id == "sess-1"
    [row] = delegations(engine)
    assert row.output_id == result.output_id


async def test_a_short_answer_is_returned_whole_and_nothing_is_stored(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    with anyio.fail_after(20):
        result = await delegate(make_runtime(make_config(fake)), DelegateParams(task="short"))
    assert not result.truncated and result.output_id is None
    with recorded(engine) as db:
        assert db.exec(select(StoredOutput)).all() == []


async def test_each_row_carries_session_task_type_tokens_and_latency(
    engine: Engine, make_runtime: MakeRuntime, fake: FakeOpenAI
) -> None:
    fake.script("model-a", Reply(input_tokens=100, output_tokens=40, cached_tokens=60))
    with anyio.fail_after(20):
        result = await delegate(make_runtime(make_config(fake)), DelegateParams(task="fix the failing test"))
    [row] = delegations(engine)
    assert (row.session_id, row.task_type, row.provider, row.model) == ("sess-1", "code_fix", "acme", "model-a")
    assert (row.input_tokens, row.output_tokens, row.cached_tokens) == (100, 40, 60)
    # The config price has no cached rate: cached input is charged at the input rate.
    assert row.cost_usd == pytest.approx((100 * 1.0 + 40 * 2.0) / 1e6)
    assert row.latency_ms is not None and row.latency_ms > 0
    assert result.decision.task_type == "code_fix" and result.decision.task_type_source == "classified"


async def test_no_configured_model_is_an_error_that_says_what_to_add(make_runtime: MakeRuntime) -> None:
    from server.config import SwitchboardConfig

    with anyio.fail_after(20), pytest.raises(DelegateError, match=r"\[providers\.NAME\]"):
        await delegate(make_runtime(SwitchboardConfig()), DelegateParams(task="q"))


async def test_a_malformed_model_id_is_a_clear_error(make_runtime: MakeRuntime, fake: FakeOpenAI) -> None:
    with anyio.fail_after(20), pytest.raises(DelegateError, match="provider:model"):
        await delegate(make_runtime(make_config(fake)), DelegateParams(task="q", model="gpt-4o"))


async def test_files_under_claude_project_dir_are_accepted_by_default(
    make_runtime: MakeRuntime, fake: FakeOpenAI, tmp_path: Path
) -> None:
    project = tmp_path / "elsewhere"
    project.mkdir()
    (project / "notes.md").write_text("remember")
    runtime = make_runtime(make_config(fake), roots=None, environ={"CLAUDE_PROJECT_DIR": str(project)})
    with anyio.fail_after(20):
        await delegate(runtime, DelegateParams(task="read", files=[str(project / "notes.md")]))
    assert "remember" in fake.requests[-1]["messages"][-1]["content"]


async def test_a_cli_provider_answers_through_delegate_and_is_recorded_unpriced(
    engine: Engine, make_runtime: MakeRuntime
) -> None:
    import sys

    from server.config import SwitchboardConfig

    script = "import sys; print('cli says: ' + sys.stdin.read())"
    config = SwitchboardConfig.model_validate(
        {"providers": {"local": {"kind": "cli", "command": [sys.executable, "-c", script], "models": ["agent"]}}}
    )
    with anyio.fail_after(30):
        result = await delegate(make_runtime(config), DelegateParams(task="hello"))
    assert result.answer == "cli says: hello" and result.model == "local:agent"
    [row] = delegations(engine)
    assert row.status == "ok" and row.cost_usd is None and not row.priced


async def test_the_first_call_builds_its_provider_and_reads_dotenv_off_the_event_loop(
    make_runtime: MakeRuntime, tmp_path: Path
) -> None:
    # The project's .env is a FIFO: reading it blocks until someone writes. Only code on the event loop writes the
    # right key; a rescue thread writes a wrong one after 10 s, so a read on the loop fails instead of hanging.
    dotenv = tmp_path / ".env"
    os.mkfifo(dotenv)

    def rescue() -> None:
        fd = os.open(dotenv, os.O_WRONLY)  # blocks until the reader opens it
        os.write(fd, b"ACME_KEY=wrong-key-from-the-rescue\n")
        os.close(fd)

    timer = threading.Timer(10, rescue)
    timer.daemon = True
    with FakeOpenAI(models=["model-a"], api_key="sk-loop-key-1234") as fake:
        runtime = make_runtime(make_config(fake), environ={"ACME_KEY": ""})
        answers: list[str] = []

        async def ask() -> None:
            answers.append((await delegate(runtime, DelegateParams(task="q", model="acme:model-a"))).answer)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(ask)
                timer.start()
                while True:  # the loop is free while the .env is read: it can be the writer
                    try:
                        fd = os.open(dotenv, os.O_WRONLY | os.O_NONBLOCK)
                    except OSError:  # no reader yet
                        await anyio.sleep(0.01)
                        continue
                    os.write(fd, b"ACME_KEY=sk-loop-key-1234\n")
                    os.close(fd)
                    break
        timer.cancel()
    assert answers == ["echo: q"]


async def test_the_answering_row_keeps_the_tokens_claude_spent_writing_the_call_and_reading_its_result(
    make_runtime: MakeRuntime, engine: Engine, fake: FakeOpenAI
) -> None:
    from server.engine.claude_side import read_tokens
    from server.engine.compact import delegate_result

    fake.script("model-a", Reply.error(500))
    fake.script("model-b", Reply(text="a short answer"))
    runtime = make_runtime(make_config(fake))
    task = "summarise this paragraph " * 20
    result = await delegate(runtime, DelegateParams(task=task))
    failed, answered = delegations(engine)
    assert (failed.claude_ask_tokens, failed.claude_read_tokens) == (None, None)
    # The arguments Claude wrote ({"task": ...}) at 3 characters a token, and what it read back.
    assert answered.claude_ask_tokens == -(-len(f'{{"task": "{task}"}}') // 3)
    assert answered.claude_read_tokens == read_tokens(delegate_result(result)) > 20
