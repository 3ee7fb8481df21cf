"""Each SDK provider against a fake over real HTTP: answers, usage, and every scripted fault classified."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest

from server.providers._sdk_errors import retry_after_seconds
from server.providers.anthropic import AnthropicProvider
from server.providers.base import ChatMessage, CompletionRequest, ErrorClass, Provider, ProviderError
from server.providers.groq import GroqProvider
from server.providers.openai_compat import OpenAICompatProvider
from tests.fakes.anthropic_messages import FakeMessages
from tests.fakes.openai_api import FakeOpenAI, Reply, closed_port

pytestmark = pytest.mark.anyio

REQUEST = CompletionRequest(messages=(ChatMessage("user", "ping"),), system="be brief", max_tokens=50)


class Harness:
    """A provider wired to a fake, with one way to script the next reply."""

    def __init__(self, fake: Any, provider: Provider, script: Callable[[Reply], None]) -> None:
        self.fake = fake
        self.provider = provider
        self.script = script


def _openai(fake: FakeOpenAI) -> Harness:
    provider = OpenAICompatProvider("acme", api_key="k", base_url=fake.base_url)
    return Harness(fake, provider, lambda reply: fake.script("m", reply))


def _groq(fake: FakeOpenAI) -> Harness:
    provider = GroqProvider("groq", api_key="k", base_url=fake.root_url)
    return Harness(fake, provider, lambda reply: fake.script("m", reply))


def _anthropic(fake: FakeMessages) -> Harness:
    provider = AnthropicProvider("anthropic", api_key="k", base_url=fake.base_url)
    return Harness(fake, provider, fake.script)


KINDS: dict[str, tuple[Callable[[], AbstractContextManager[Any]], Callable[[Any], Harness]]] = {
    "openai-compatible": (lambda: FakeOpenAI(models=["m"]), _openai),
    "groq": (lambda: FakeOpenAI(models=["m"]), _groq),
    "anthropic": (lambda: FakeMessages(models=["m"]), _anthropic),
}


@pytest.fixture(params=sorted(KINDS))
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    make_fake, wire = KINDS[request.param]
    with make_fake() as fake:
        h = wire(fake)
        yield h
        await h.provider.aclose()


async def test_provider_returns_text_and_usage(harness: Harness) -> None:
    harness.script(Reply(text="pong", input_tokens=20, output_tokens=3))
    with anyio.fail_after(10):
        completion = await harness.provider.complete("m", REQUEST, timeout_s=5)
    assert (completion.text, completion.input_tokens, completion.output_tokens) == ("pong", 20, 3)


async def test_provider_sends_the_system_prompt_and_max_tokens(harness: Harness) -> None:
    with anyio.fail_after(10):
        await harness.provider.complete("m", REQUEST, timeout_s=5)
    body = harness.fake.requests[-1]
    assert body["max_tokens"] == 50
    assert "be brief" in str(body.get("system", body["messages"]))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply.error(500), ErrorClass.SERVER_ERROR),
        (Reply.error(503), ErrorClass.SERVER_ERROR),
        (Reply.error(429, retry_after=2), ErrorClass.RATE_LIMITED),
        (Reply.error(401), ErrorClass.AUTH),
        (Reply.error(400), ErrorClass.BAD_REQUEST),
        (Reply(kind="garbage"), ErrorClass.MALFORMED),
        (Reply(kind="cut"), ErrorClass.CONNECTION),
        (Reply(kind="refuse"), ErrorClass.CONNECTION),
    ],
    ids=["500", "503", "429", "401", "400", "non-json", "cut-body", "hang-up"],
)
async def test_provider_classifies_each_fault(harness: Harness, reply: Reply, expected: ErrorClass) -> None:
    harness.script(reply)
    with anyio.fail_after(10), pytest.raises(ProviderError) as caught:
        await harness.provider.complete("m", REQUEST, timeout_s=5)
    assert caught.value.error_class is expected
    # max_retries=0: the SDK made exactly one request; retrying is the delegate engine's job.
    assert len(harness.fake.requests) == 1


async def test_rate_limit_carries_the_retry_after_seconds(harness: Harness) -> None:
    harness.script(Reply.error(429, retry_after=1.5))
    with anyio.fail_after(10), pytest.raises(ProviderError) as caught:
        await harness.provider.complete("m", REQUEST, timeout_s=5)
    assert caught.value.retry_after_s == 1.5


async def test_a_hang_past_the_timeout_is_a_timeout(harness: Harness) -> None:
    harness.script(Reply(kind="hang"))
    with anyio.fail_after(10), pytest.raises(ProviderError) as caught:
        await harness.provider.complete("m", REQUEST, timeout_s=0.3)
    assert caught.value.error_class is ErrorClass.TIMEOUT


async def test_list_models_is_a_free_get(harness: Harness) -> None:
    with anyio.fail_after(10):
        models = await harness.provider.list_models(timeout_s=5)
    assert models == ["m"]
    assert harness.fake.requests == []


async def test_connection_refused_is_a_connection_error() -> None:
    provider = OpenAICompatProvider("acme", api_key="k", base_url=f"http://127.0.0.1:{closed_port()}/v1")
    with anyio.fail_after(10), pytest.raises(ProviderError) as caught:
        await provider.complete("m", REQUEST, timeout_s=5)
    await provider.aclose()
    assert caught.value.error_class is ErrorClass.CONNECTION


async def test_provider_reports_the_finish_reason(harness: Harness) -> None:
    with anyio.fail_after(10):
        completion = await harness.provider.complete("m", REQUEST, timeout_s=5)
    assert completion.extra["finish_reason"] in ("stop", "end_turn")


@pytest.mark.parametrize("make_provider", [_openai, _groq], ids=["openai-compatible", "groq"])
async def test_a_json_answer_without_choices_is_malformed(make_provider: Callable[[FakeOpenAI], Harness]) -> None:
    with FakeOpenAI(models=["m"]) as fake:
        harness = make_provider(fake)
        harness.script(Reply(kind="empty"))
        with anyio.fail_after(10), pytest.raises(ProviderError) as caught:
            await harness.provider.complete("m", REQUEST, timeout_s=5)
        await harness.provider.aclose()
    assert caught.value.error_class is ErrorClass.MALFORMED


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "Sun, 29 Nov 2026 05:00:30 GMT"}, 30.0),
        ({"retry-after": "Sun, 29 Nov 2026 04:59:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_milliseconds_seconds_and_http_date_forms(
    headers: dict[str, str], seconds: float | None
) -> None:
    now = datetime(2026, 11, 29, 5, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(httpx.Headers(headers), now=now) == seconds


@pytest.mark.parametrize(("reply", "billed"), [(Reply(kind="cut"), True), (Reply.error(503), False)])
async def test_a_cut_response_may_have_been_billed_and_a_refusal_was_not(
    harness: Harness, reply: Reply, billed: bool
) -> None:
    harness.script(reply)
    with anyio.fail_after(10), pytest.raises(ProviderError) as caught:
        await harness.provider.complete("m", REQUEST, timeout_s=5)
    assert caught.value.maybe_billed is billed
