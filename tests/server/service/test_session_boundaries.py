"""Sessions of one service are separate where it matters: cached answers, stored outputs, threads, learned routing.

Real processes throughout: two (or three) launchers as Claude Code runs them, each in its own project folder and
session, one service behind them, and the fake OpenAI API on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_api import FakeOpenAI
from tests.server.service.launch import Session, service_env, session, stop_service

KEY_A = "sk-test-boundary-key-a-51c2e8"
REVOKED = "sk-test-boundary-revoked-93ad07"


@pytest.fixture
def service_home(home: Path) -> Iterator[Path]:
    yield home
    stop_service(home)


def _project(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _env(home: Path, config: Path, project: Path, session_id: str, **extra: str) -> dict[str, str]:
    return service_env(
        home,
        SWITCHBOARD_CONFIG=str(config),
        CLAUDE_CODE_SESSION_ID=session_id,
        CLAUDE_PROJECT_DIR=str(project),
        **extra,
    )


def _open(home: Path, config: Path, project: Path, session_id: str, **extra: str) -> AbstractContextManager[Session]:
    return session(_env(home, config, project, session_id, **extra), cwd=project)


def _text(result: dict[str, Any]) -> str:
    return " ".join(part.get("text", "") for part in result.get("content", []))


def test_a_cached_answer_is_not_given_to_a_session_whose_provider_key_differs(
    service_home: Path, tmp_path: Path
) -> None:
    with FakeOpenAI(["model-a"], api_key=KEY_A) as fake:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
            "[cache]\nenabled = true\n"
        )
        project = _project(tmp_path, "project")
        with (
            _open(service_home, config, project, "session-a", ACME_KEY=KEY_A) as a,
            _open(service_home, config, project, "session-b", ACME_KEY=REVOKED) as b,
        ):
            a.initialize()
            b.initialize()
            first = a.call("delegate", task="what is the answer?")
            again = a.call("delegate", task="what is the answer?")
            other = b.call("delegate", task="what is the answer?")
    assert not first["isError"] and first["structuredContent"].get("cache_hit") is None
    assert again["structuredContent"]["cache_hit"] is True  # the cache is on: the same key hits it
    # The revoked key reaches the provider and is refused there, instead of reading session a's answer.
    assert other["isError"] and "auth" in _text(other).lower(), other
    assert len(fake.requests) == 1  # the fake logs authorised requests only: b's was turned away at the door


def _outputs_config(tmp_path: Path, fake: FakeOpenAI) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
        "[output]\nmax_output_tokens = 100\n"
    )
    return config


def test_stored_outputs_and_threads_answer_only_in_their_session_or_project(service_home: Path, tmp_path: Path) -> None:
    long_task = "explain " + "the boundary between sessions " * 100
    with FakeOpenAI(["model-a"]) as fake:
        config = _outputs_config(tmp_path, fake)
        here, elsewhere = _project(tmp_path, "project-x"), _project(tmp_path, "project-y")
        with (
            _open(service_home, config, here, "session-a", ACME_KEY="sk-a") as a,
            _open(service_home, config, elsewhere, "session-b", ACME_KEY="sk-a") as b,
            _open(service_home, config, here, "session-c", ACME_KEY="sk-a") as c,
        ):
            for opened in (a, b, c):
                opened.initialize()
            made = a.call("delegate", task=long_task)["structuredContent"]
            output_id, thread_id = made["output_id"], made["thread_id"]
            stranger_output = b.call("get_output", output_id=output_id)
            stranger_thread = b.call("delegate", task="and then?", thread_id=thread_id)
            stranger_resource = b.request("resources/read", {"uri": f"switchboard://outputs/{output_id}"})
            neighbour_output = c.call("get_output", output_id=output_id)
            neighbour_thread = c.call("delegate", task="and then?", thread_id=thread_id)
            own_output = a.call("get_output", output_id=output_id)
    assert made["truncated"] is True
    assert stranger_output["isError"] and f"no stored output with id {output_id!r}" in _text(stranger_output)
    assert stranger_thread["isError"] and f"unknown thread_id {thread_id!r}" in _text(stranger_thread)
    assert "error" in stranger_resource and output_id in str(stranger_resource["error"])
    # Nothing of the answer (the task is echoed back) reached the other project.
    for refused in (stranger_output, stranger_thread, stranger_resource):
        assert "boundary between sessions" not in str(refused)
    # Another session in the same project, and the session itself, read both.
    assert (
        not neighbour_output["isError"]
        and "boundary between sessions" in neighbour_output["structuredContent"]["content"]
    )
    assert not neighbour_thread["isError"] and not own_output["isError"]
    assert neighbour_thread["structuredContent"]["thread_id"] == thread_id


def _learning_config(tmp_path: Path, fake: FakeOpenAI) -> Path:
    config = tmp_path / "learning.toml"
    # Only the quality signal weighs: without feedback both models tie and the written order stands exactly, so
    # the first choice says whether feedback reached the project (Thompson draws of success would blur it).
    config.write_text(
        f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\n'
        'models = ["model-a", "model-b"]\n'
        '[routing]\ndefault = ["acme:model-a", "acme:model-b"]\n'
        "[routing.learn]\nsuccess = 0.0\ncost = 0.0\nlatency = 0.0\nquality = 1.0\n"
    )
    return config


def test_feedback_from_one_project_moves_learned_routing_in_that_project_only(
    service_home: Path, tmp_path: Path
) -> None:
    task = "write a haiku about routers"
    with FakeOpenAI(["model-a", "model-b"]) as fake:
        config = _learning_config(tmp_path, fake)
        x, y = _project(tmp_path, "project-x"), _project(tmp_path, "project-y")
        with _open(service_home, config, x, "session-x", ACME_KEY="sk-a") as noisy:
            noisy.initialize()
            for i in range(15):  # 15 pairs: model-a judged bad, model-b good
                model = "acme:model-a" if i < 8 else "acme:model-b"
                answer = noisy.call("delegate", task=task, model=model)["structuredContent"]
                said = noisy.call("feedback", request_id=answer["request_id"], good=model.endswith("b"))
                assert not said["isError"], said
            in_x = noisy.call("delegate", task=task)["structuredContent"]["model"]
        with _open(service_home, config, y, "session-y", ACME_KEY="sk-a") as other:
            other.initialize()
            in_y = [other.call("delegate", task=task)["structuredContent"]["model"] for _ in range(10)]
    assert in_x == "acme:model-b"  # the feedback counts where it was given
    assert in_y == ["acme:model-a"] * 10  # and moves nothing in another project
