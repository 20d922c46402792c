"""AnthropicProvider against a local server speaking Anthropic's Messages wire format."""

from __future__ import annotations

import json
import time

import anthropic
import pytest

from llm.providers import (
    AnthropicProvider,
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMError,
    LLMProviderUnavailableError,
    LLMRateLimitError,
    LLMTimeoutError,
    LLMUsage,
    create_llm_provider,
)
from tests.llm.vendor_servers import Reply, ToolCall

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
async def provider(anthropic_server):
    async with create_llm_provider(anthropic_server.llm_config()) as provider:
        yield provider


async def test_it_sends_the_prompt_and_settings_and_returns_the_answer(anthropic_server, provider):
    assert isinstance(provider, AnthropicProvider)
    anthropic_server.queue(Reply(text="Paris.", prompt_tokens=14, completion_tokens=3))
    response = await provider.generate_with_system("Answer in one word.", "Capital of France?")

    received = anthropic_server.last_request
    assert received.headers["authorization"] == f"Bearer {anthropic_server.api_key}"
    assert "anthropic-version" in received.headers
    assert received.json["model"] == "claude-sonnet-5-5"
    assert received.json["system"] == "Answer in one word."
    assert received.json["messages"] == [{"role": "user", "content": "Capital of France?"}]
    assert received.json["max_tokens"] == 4096
    assert response.content == "Paris."
    assert response.model == "claude-sonnet-5-5"
    assert response.usage == LLMUsage(prompt_tokens=14, completion_tokens=3)
    assert response.finish_reason == "stop"
    assert response.metadata["provider"] == "anthropic"
    assert response.metadata["response_id"].startswith("msg_")
    assert response.metadata["usage_source"] == "vendor"
    assert response.metadata["vendor_finish_reason"] == "end_turn"


async def test_max_tokens_is_always_sent_and_sampling_parameters_never(anthropic_server, provider):
    await provider.generate("Hi")
    await provider.generate("Hi", max_tokens=7, temperature=0.1, stop=["END"])
    first, second = (request.json for request in anthropic_server.completion_requests)
    assert first["max_tokens"] == 4096
    assert second["max_tokens"] == 7
    assert second["stop_sequences"] == ["END"]
    for body in (first, second):
        assert not {"temperature", "top_p", "top_k"} & set(body)
        assert "system" not in body


async def test_tools_go_out_and_tool_use_comes_back(anthropic_server, provider):
    anthropic_server.queue(
        Reply(text="Let me check.", tool_calls=[ToolCall("get_weather", {"city": "Oslo"}, id="toolu_1")])
    )
    response = await provider.generate("Weather in Oslo?", tools=[WEATHER_TOOL], tool_choice={"type": "auto"})
    received = anthropic_server.last_request.json
    assert received["tools"] == [WEATHER_TOOL]
    assert received["tool_choice"] == {"type": "auto"}
    assert response.content == "Let me check."
    assert response.finish_reason == "tool_calls"
    assert response.tool_calls == [{"id": "toolu_1", "name": "get_weather", "arguments": '{"city": "Oslo"}'}]


async def test_prompt_cache_tokens_count_as_prompt_tokens_and_apart(anthropic_server, provider):
    anthropic_server.queue(
        Reply(prompt_tokens=3000, completion_tokens=20, cache_read_tokens=2000, cache_write_tokens=900)
    )
    response = await provider.generate("x")
    assert anthropic_server.last_request is not None
    assert response.metadata["vendor_usage"]["input_tokens"] == 100
    assert response.usage == LLMUsage(
        prompt_tokens=3000, completion_tokens=20, cache_read_tokens=2000, cache_write_tokens=900
    )


@pytest.mark.parametrize(
    ("vendor_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "error"),
    ],
)
async def test_stop_reasons_map_to_the_four_values(anthropic_server, provider, vendor_reason, finish_reason):
    anthropic_server.queue(Reply(finish_reason=vendor_reason))
    assert (await provider.generate("x")).finish_reason == finish_reason


async def test_it_streams_text_and_ends_with_the_vendors_usage(anthropic_server, provider):
    anthropic_server.queue(Reply(text="Once upon a time", prompt_tokens=12, completion_tokens=5, cache_read_tokens=2))
    stream = provider.generate_stream("Tell a story", system="You are a storyteller.", max_tokens=50)
    chunks = [chunk async for chunk in stream]

    received = anthropic_server.last_request.json
    assert received["stream"] is True
    assert received["system"] == "You are a storyteller."
    assert received["max_tokens"] == 50
    assert chunks == ["Once ", "upon ", "a ", "time"]
    response = stream.response
    assert response.content == "Once upon a time"
    assert response.usage == LLMUsage(prompt_tokens=12, completion_tokens=5, cache_read_tokens=2)
    assert response.metadata["usage_source"] == "vendor"
    assert response.finish_reason == "stop"
    assert response.metadata["response_id"].startswith("msg_")


async def test_a_stream_collects_tool_use(anthropic_server, provider):
    arguments = {"city": "Reykjavik", "unit": "celsius"}
    anthropic_server.queue(Reply(text="Checking.", tool_calls=[ToolCall("get_weather", arguments, id="toolu_9")]))
    response = await provider.generate_stream("Weather?", tools=[WEATHER_TOOL]).collect()
    assert response.content == "Checking."
    assert response.finish_reason == "tool_calls"
    assert response.tool_calls == [{"id": "toolu_9", "name": "get_weather", "arguments": json.dumps(arguments)}]


async def test_a_stream_closed_half_way_counts_the_vendors_prompt_tokens(anthropic_server, provider):
    anthropic_server.queue(Reply(text="one two three four five six", prompt_tokens=40, chunk_delay_seconds=0.02))
    stream = provider.generate_stream("Count")
    received = [await anext(stream) for _ in range(2)]
    await stream.aclose()

    assert received == ["one ", "two "]
    response = stream.response
    assert response.content == "one two "
    assert response.metadata["cancelled"] is True
    assert response.metadata["usage_source"] == "estimated"
    assert response.usage.prompt_tokens == 40  # from message_start, before the end
    assert response.usage.completion_tokens > 0
    assert anthropic_server.wait_for_outcome(anthropic_server.last_request) == "client_disconnected"


async def test_an_overloaded_error_inside_a_stream_is_ours(anthropic_server, provider):
    anthropic_server.queue(Reply(text="a b c d", error_after_chunks=2))
    stream = provider.generate_stream("x")
    with pytest.raises(LLMProviderUnavailableError, match="overloaded_error") as caught:
        await stream.collect()
    assert not isinstance(caught.value, anthropic.AnthropicError)
    assert stream.response.content == "a b "
    assert stream.response.finish_reason == "error"


async def test_a_rate_limit_inside_a_stream_is_a_rate_limit_error(anthropic_server, provider):
    anthropic_server.queue(Reply(text="a b c", error_after_chunks=1, error_type="rate_limit_error"))
    with pytest.raises(LLMRateLimitError):
        await provider.generate_stream("x").collect()


async def test_a_429_with_retry_after_succeeds_on_retry(anthropic_server, provider):
    anthropic_server.queue(Reply.rate_limited(retry_after=0.2), Reply(text="made it"))
    started = time.perf_counter()
    assert (await provider.generate("x")).content == "made it"
    assert len(anthropic_server.completion_requests) == 2
    assert time.perf_counter() - started >= 0.2


async def test_a_429_without_retries_left_says_when_to_come_back(anthropic_server):
    anthropic_server.queue(Reply.rate_limited(retry_after=20))
    async with create_llm_provider(anthropic_server.llm_config(max_retries=0)) as provider:
        with pytest.raises(LLMRateLimitError) as caught:
            await provider.generate("x")
    assert caught.value.retry_after == 20
    assert caught.value.request_id.startswith("req_")


@pytest.mark.parametrize("status", [500, 529])
async def test_a_server_error_that_persists_exhausts_the_retries(anthropic_server, provider, status):
    anthropic_server.default_reply = Reply.error(status)
    with pytest.raises(LLMProviderUnavailableError, match=str(status)):
        await provider.generate("x")
    assert len(anthropic_server.completion_requests) == 3


async def test_a_slow_server_trips_the_timeout(anthropic_server):
    anthropic_server.queue(Reply.hang(seconds=5))
    async with create_llm_provider(anthropic_server.llm_config(timeout_seconds=0.2, max_retries=0)) as provider:
        started = time.perf_counter()
        with pytest.raises(LLMTimeoutError):
            await provider.generate("x")
    assert time.perf_counter() - started < 2


async def test_a_stream_that_stalls_trips_the_timeout(anthropic_server):
    anthropic_server.queue(Reply(text="alpha beta gamma", hang_after_chunks=1))
    async with create_llm_provider(anthropic_server.llm_config(timeout_seconds=0.3, max_retries=0)) as provider:
        stream = provider.generate_stream("x")
        with pytest.raises(LLMTimeoutError):
            await stream.collect()
    assert stream.response.content == "alpha "
    assert stream.response.metadata["error"]["type"] == "LLMTimeoutError"


async def test_a_wrong_key_is_an_authentication_error(anthropic_server):
    async with create_llm_provider(anthropic_server.llm_config(api_key="sk-ant-wrong")) as provider:
        with pytest.raises(LLMAuthenticationError, match="invalid x-api-key"):
            await provider.generate("x")
        assert await provider.validate() is False
    assert len(anthropic_server.completion_requests) == 1


async def test_a_refused_request_is_a_bad_request(anthropic_server, provider):
    anthropic_server.queue(Reply.error(400, "messages: roles must alternate"))
    with pytest.raises(LLMBadRequestError, match="roles must alternate"):
        await provider.generate("x")


async def test_without_an_api_key_it_fails_before_sending_anything(anthropic_server, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    provider = create_llm_provider(anthropic_server.llm_config(api_key=None))
    with pytest.raises(LLMAuthenticationError, match="ANTHROPIC_API_KEY"):
        await provider.generate("x")
    assert anthropic_server.requests == []


async def test_it_lists_the_servers_models(anthropic_server, provider):
    anthropic_server.models = ["claude-sonnet-5-5", "claude-haiku-4-5", "claude-opus-4-1"]
    assert await provider.get_available_models() == ["claude-haiku-4-5", "claude-opus-4-1", "claude-sonnet-5-5"]
    assert await provider.validate() is True


async def test_errors_are_never_sdk_exceptions(anthropic_server, provider):
    for reply in (Reply.error(400), Reply.error(401), Reply.error(403), Reply.error(404), Reply.error(503)):
        anthropic_server.default_reply = reply
        with pytest.raises(LLMError) as caught:
            await provider.generate("x")
        assert not isinstance(caught.value, anthropic.AnthropicError)
