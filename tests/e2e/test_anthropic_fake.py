"""The fake Anthropic API speaks the protocol the official SDK expects (streaming, plain, count_tokens)."""

from __future__ import annotations

import anthropic

from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, Usage, serve_anthropic

SCRIPT = Conversation(
    "MARKER",
    [
        Turn(text="calling", tool_uses=(ToolUse("Bash", {"command": "ls"}, id="toolu_1"),), usage=Usage(11, 7, 3, 2)),
        Turn(text="done", usage=Usage(20, 4)),
    ],
)


def _client(fake: AnthropicFake) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.base_url, api_key="sk-fake", max_retries=0, timeout=10)


def test_streamed_reply_carries_text_tool_input_stop_reason_and_usage() -> None:
    with serve_anthropic(AnthropicFake([SCRIPT])) as fake, _client(fake) as client:
        messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "MARKER go"}]
        with client.messages.stream(model="claude-x", max_tokens=100, messages=messages) as stream:
            final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [block.type for block in final.content] == ["text", "tool_use"]
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.input == {"command": "ls"} and tool.id == "toolu_1"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 7)
    assert final.usage.cache_read_input_tokens == 3
    assert final.usage.cache_creation_input_tokens == 2


def test_turn_is_chosen_by_the_number_of_tool_results_even_when_a_system_entry_ends_the_messages() -> None:
    conversation: list[anthropic.types.MessageParam] = [
        {"role": "user", "content": "MARKER go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"}]},
        {"role": "user", "content": "a reminder appended by the client"},
    ]
    with serve_anthropic(AnthropicFake([SCRIPT])) as fake, _client(fake) as client:
        reply = client.messages.create(model="claude-x", max_tokens=100, messages=conversation)
    assert reply.stop_reason == "end_turn"
    assert reply.content[0].type == "text" and reply.content[0].text == "done"


def test_unclaimed_requests_get_the_default_reply_and_every_request_is_recorded(anthropic_api: AnthropicFake) -> None:
    fake = anthropic_api
    fake.conversations = [SCRIPT]
    with _client(fake) as client:  # an unclosed client's socket surfaces later, in another test, as a ResourceWarning
        reply = client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "title?"}])
        count = client.messages.count_tokens(model="m", messages=[{"role": "user", "content": "hello there"}])
    assert reply.content[0].type == "text" and reply.content[0].text == "ok"
    assert count.input_tokens > 0
    assert [r.path for r in fake.requests] == ["/v1/messages", "/v1/messages/count_tokens"]
    assert [r.body["messages"][0]["content"] for r in fake.messages()] == ["title?"]
    headers = fake.requests[0].headers
    assert "sk-fake" in headers.get("x-api-key", headers.get("authorization", ""))
