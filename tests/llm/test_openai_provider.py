"""OpenAIProvider and OpenAICompatibleProvider against a local server speaking OpenAI's wire format."""

from __future__ import annotations

import json
import socket
import time

import openai
import pytest

from llm.providers import (
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMConfig,
    LLMError,
    LLMProviderUnavailableError,
    LLMRateLimitError,
    LLMTimeoutError,
    LLMUsage,
    OpenAICompatibleProvider,
    OpenAIProvider,
    create_llm_provider,
    estimate_tokens,
)
from tests.llm.vendor_servers import Reply, ToolCall

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
async def provider(openai_server):
    async with create_llm_provider(openai_server.llm_config()) as provider:
        yield provider


async def test_it_sends_the_prompt_and_settings_and_returns_the_answer(openai_server, provider):
    openai_server.queue(Reply(text="Paris.", prompt_tokens=21, completion_tokens=2, model="gpt-4o-mini-2024-07-18"))
    response = await provider.generate_with_system("Answer in one word.", "Capital of France?")

    received = openai_server.last_request
    assert received.headers["authorization"] == f"Bearer {openai_server.api_key}"
    assert received.json["model"] == "gpt-4o-mini"
    assert received.json["messages"] == [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert received.json["temperature"] == 0.7
    assert received.json["max_completion_tokens"] == 4096
    assert "stream" not in received.json
    assert response.content == "Paris."
    assert response.model == "gpt-4o-mini-2024-07-18"
    assert response.usage == LLMUsage(prompt_tokens=21, completion_tokens=2, total_tokens=23)
    assert response.finish_reason == "stop"
    assert response.metadata["provider"] == "openai"
    assert response.metadata["response_id"].startswith("chatcmpl-")
    assert response.metadata["usage_source"] == "vendor"
    assert response.metadata["vendor_usage"]["prompt_tokens"] == 21
    assert provider.last_response is response


async def test_per_call_overrides_reach_the_server(openai_server, provider):
    await provider.generate("Count", temperature=0.0, max_tokens=12, stop=["\n\n", "END"])
    received = openai_server.last_request.json
    assert (received["temperature"], received["max_completion_tokens"]) == (0.0, 12)
    assert received["stop"] == ["\n\n", "END"]
    assert received["messages"] == [{"role": "user", "content": "Count"}]


async def test_tools_go_out_and_tool_calls_come_back(openai_server, provider):
    openai_server.queue(Reply(text="", tool_calls=[ToolCall("get_weather", {"city": "Oslo"}, id="call_1")]))
    response = await provider.generate("Weather in Oslo?", tools=[WEATHER_TOOL], tool_choice="auto")
    received = openai_server.last_request.json
    assert received["tools"] == [WEATHER_TOOL]
    assert received["tool_choice"] == "auto"
    assert response.finish_reason == "tool_calls"
    assert response.content == ""
    assert response.tool_calls == [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Oslo"}'}]


async def test_cached_prompt_tokens_are_counted_apart(openai_server, provider):
    openai_server.queue(Reply(prompt_tokens=2000, completion_tokens=10, cache_read_tokens=1536))
    response = await provider.generate("x")
    assert response.usage == LLMUsage(prompt_tokens=2000, completion_tokens=10, cache_read_tokens=1536)


@pytest.mark.parametrize(
    ("vendor_reason", "finish_reason"),
    [("stop", "stop"), ("length", "length"), ("tool_calls", "tool_calls"), ("content_filter", "error")],
)
async def test_finish_reasons_map_to_the_four_values(openai_server, provider, vendor_reason, finish_reason):
    openai_server.queue(Reply(finish_reason=vendor_reason))
    response = await provider.generate("x")
    assert response.finish_reason == finish_reason
    assert response.metadata["vendor_finish_reason"] == vendor_reason


async def test_it_streams_text_and_ends_with_the_vendors_usage(openai_server, provider):
    openai_server.queue(Reply(text="Once upon a time", prompt_tokens=9, completion_tokens=4))
    stream = provider.generate_stream("Tell a story", system="You are a storyteller.", max_tokens=50)
    chunks = [chunk async for chunk in stream]

    received = openai_server.last_request.json
    assert received["stream"] is True
    assert received["stream_options"] == {"include_usage": True}
    assert received["messages"][0] == {"role": "system", "content": "You are a storyteller."}
    assert received["max_completion_tokens"] == 50
    assert chunks == ["Once ", "upon ", "a ", "time"]
    response = stream.response
    assert response.content == "Once upon a time"
    assert response.usage == LLMUsage(prompt_tokens=9, completion_tokens=4)
    assert response.metadata["usage_source"] == "vendor"
    assert response.finish_reason == "stop"
    assert provider.last_response is response


async def test_a_stream_collects_tool_calls(openai_server, provider):
    openai_server.queue(
        Reply(text="", tool_calls=[ToolCall("get_weather", {"city": "Reykjavik", "unit": "celsius"}, id="call_9")])
    )
    response = await provider.generate_stream("Weather?", tools=[WEATHER_TOOL]).collect()
    assert response.finish_reason == "tool_calls"
    assert response.tool_calls == [
        {"id": "call_9", "name": "get_weather", "arguments": json.dumps({"city": "Reykjavik", "unit": "celsius"})}
    ]


async def test_a_stream_closed_half_way_keeps_its_text_and_closes_the_connection(openai_server, provider):
    openai_server.queue(Reply(text="one two three four five six seven eight", chunk_delay_seconds=0.02))
    stream = provider.generate_stream("Count to eight")
    received = [await anext(stream) for _ in range(3)]
    await stream.aclose()

    assert received == ["one ", "two ", "three "]
    response = stream.response
    assert response.content == "one two three "
    assert response.finish_reason == "error"
    assert response.metadata["cancelled"] is True
    assert response.metadata["usage_source"] == "estimated"
    assert response.usage.prompt_tokens > 0
    assert response.usage.completion_tokens > 0
    assert openai_server.wait_for_outcome(openai_server.last_request) == "client_disconnected"


async def test_a_429_with_retry_after_succeeds_on_retry(openai_server, provider):
    openai_server.queue(Reply.rate_limited(retry_after=0.2), Reply(text="made it"))
    started = time.perf_counter()
    response = await provider.generate("x")
    assert response.content == "made it"
    assert len(openai_server.completion_requests) == 2
    assert time.perf_counter() - started >= 0.2
    assert openai_server.completion_requests[1].headers["x-stainless-retry-count"] == "1"


async def test_a_429_without_retries_left_says_when_to_come_back(openai_server):
    openai_server.queue(Reply.rate_limited(retry_after=30))
    async with create_llm_provider(openai_server.llm_config(max_retries=0)) as provider:
        with pytest.raises(LLMRateLimitError) as caught:
            await provider.generate("x")
    assert caught.value.retry_after == 30
    assert caught.value.status_code == 429
    assert caught.value.retryable


async def test_a_500_that_persists_exhausts_the_retries(openai_server, provider):
    openai_server.default_reply = Reply.error(500)
    with pytest.raises(LLMProviderUnavailableError, match="500") as caught:
        await provider.generate("x")
    assert len(openai_server.completion_requests) == 1 + provider.config.max_retries
    assert not isinstance(caught.value, openai.OpenAIError)
    assert isinstance(caught.value.__cause__, openai.InternalServerError)


async def test_a_slow_server_trips_the_timeout(openai_server):
    openai_server.queue(Reply.hang(seconds=5))
    async with create_llm_provider(openai_server.llm_config(timeout_seconds=0.2, max_retries=0)) as provider:
        started = time.perf_counter()
        with pytest.raises(LLMTimeoutError, match="0.2 s"):
            await provider.generate("x")
    assert time.perf_counter() - started < 2


async def test_a_timeout_is_retried(openai_server):
    openai_server.queue(Reply.hang(seconds=5), Reply(text="second try"))
    async with create_llm_provider(openai_server.llm_config(timeout_seconds=0.2, max_retries=1)) as provider:
        assert (await provider.generate("x")).content == "second try"
    assert len(openai_server.completion_requests) == 2


async def test_a_stream_that_stalls_trips_the_timeout_and_keeps_the_text_so_far(openai_server):
    openai_server.queue(Reply(text="alpha beta gamma delta", hang_after_chunks=2))
    async with create_llm_provider(openai_server.llm_config(timeout_seconds=0.3, max_retries=0)) as provider:
        stream = provider.generate_stream("x")
        received = []
        with pytest.raises(LLMTimeoutError):
            async for chunk in stream:
                received.append(chunk)
    assert received == ["alpha ", "beta "]
    assert stream.response.content == "alpha beta "
    assert stream.response.finish_reason == "error"
    assert stream.response.metadata["error"]["type"] == "LLMTimeoutError"
    assert stream.response.usage.completion_tokens > 0


async def test_an_error_inside_a_stream_is_ours(openai_server, provider):
    openai_server.queue(Reply(text="a b c d", error_after_chunks=2, error_message="The model crashed"))
    stream = provider.generate_stream("x")
    with pytest.raises(LLMProviderUnavailableError, match="The model crashed"):
        await stream.collect()
    assert stream.response.content == "a b "


async def test_a_wrong_key_is_an_authentication_error_and_not_retried(openai_server):
    async with create_llm_provider(openai_server.llm_config(api_key="sk-wrong")) as provider:
        with pytest.raises(LLMAuthenticationError, match="Incorrect API key") as caught:
            await provider.generate("x")
        assert await provider.validate() is False
    assert caught.value.status_code == 401
    assert caught.value.request_id.startswith("req_")
    assert len(openai_server.completion_requests) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_a_refused_request_is_a_bad_request(openai_server, provider, status):
    openai_server.queue(Reply.error(status, "The model `gpt-9` does not exist"))
    with pytest.raises(LLMBadRequestError, match="gpt-9"):
        await provider.generate("x")


async def test_a_stream_refused_up_front_raises_on_first_iteration_and_cost_nothing(openai_server, provider):
    openai_server.queue(Reply.error(400, "Bad request"))
    stream = provider.generate_stream("x")
    with pytest.raises(LLMBadRequestError):
        await anext(stream)
    assert stream.response.usage == LLMUsage()
    assert stream.response.metadata["usage_source"] == "none"


async def test_an_unreachable_server_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = LLMConfig(provider="openai", model="m", api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    async with create_llm_provider(config) as provider:
        with pytest.raises(LLMProviderUnavailableError, match="Cannot reach openai"):
            await provider.generate("x")


async def test_without_an_api_key_it_fails_before_sending_anything(openai_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    provider = create_llm_provider(openai_server.llm_config(api_key=None))
    with pytest.raises(LLMAuthenticationError, match="OPENAI_API_KEY"):
        await provider.generate("x")
    assert openai_server.requests == []


async def test_the_api_key_may_come_from_the_environment(openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", openai_server.api_key)
    async with create_llm_provider(openai_server.llm_config(api_key=None)) as provider:
        assert (await provider.generate("x")).content


async def test_it_lists_the_servers_models(openai_server, provider):
    openai_server.models = ["gpt-4o-mini", "gpt-4o", "o3-mini"]
    assert await provider.get_available_models() == ["gpt-4o", "gpt-4o-mini", "o3-mini"]
    assert await provider.validate() is True


async def test_errors_are_never_sdk_exceptions(openai_server, provider):
    for reply in (Reply.error(400), Reply.error(401), Reply.error(403), Reply.error(409), Reply.error(503)):
        openai_server.default_reply = reply
        with pytest.raises(LLMError) as caught:
            await provider.generate("x")
        assert not isinstance(caught.value, openai.OpenAIError)


# openai-compatible: Ollama, vLLM, llama.cpp, LM Studio


async def test_openai_compatible_needs_no_key_and_never_sends_the_openai_key(openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")
    openai_server.api_key = None
    config = LLMConfig(provider="openai-compatible", model="llama3.2", base_url=openai_server.base_url)
    async with create_llm_provider(config) as provider:
        assert isinstance(provider, OpenAICompatibleProvider)
        assert isinstance(provider, OpenAIProvider)
        response = await provider.generate("Hi", max_tokens=64)
    received = openai_server.last_request
    assert received.headers["authorization"] == "Bearer not-needed"
    assert received.json["model"] == "llama3.2"
    assert received.json["max_tokens"] == 64
    assert "max_completion_tokens" not in received.json
    assert response.metadata["provider"] == "openai-compatible"


async def test_openai_compatible_sends_a_key_when_given(openai_server):
    config = openai_server.llm_config(provider="openai-compatible", model="Qwen/Qwen2.5-7B-Instruct")
    async with create_llm_provider(config) as provider:
        await provider.generate_stream("Hi").collect()
    assert openai_server.last_request.headers["authorization"] == f"Bearer {openai_server.api_key}"


async def test_without_usage_from_the_server_the_usage_is_estimated(openai_server):
    openai_server.api_key = None
    openai_server.queue(Reply(text="no usage here", send_usage=False), Reply(text="nor here", send_usage=False))
    config = LLMConfig(provider="openai-compatible", model="llama3.2", base_url=openai_server.base_url)
    async with create_llm_provider(config) as provider:
        response = await provider.generate("Hi")
        streamed = await provider.generate_stream("Hi").collect()
    assert response.content == "no usage here"
    assert response.metadata["usage_source"] == "estimated"
    assert response.usage.completion_tokens == estimate_tokens("no usage here")
    assert streamed.content == "nor here"
    assert streamed.finish_reason == "stop"
    assert streamed.metadata["usage_source"] == "estimated"
    assert streamed.usage == LLMUsage(
        prompt_tokens=estimate_tokens("Hi"), completion_tokens=estimate_tokens("nor here")
    )
