from __future__ import annotations

import asyncio
import gc
import time

import pytest

from llm.providers import (
    BaseLLMProvider,
    LLMConfig,
    LLMRateLimitError,
    LLMResponse,
    LLMStream,
    LLMUsage,
    MockLLMProvider,
    estimate_tokens,
)
from llm.providers.errors import LLMAuthenticationError, LLMProviderUnavailableError
from llm.providers.mock import word_chunks
from llm.providers.mock_content import RESPONSES


async def test_the_seed_usage_works_as_written():
    provider = MockLLMProvider()
    provider.queue_response("Mocked code output")
    response = await provider.generate("Write code")
    assert response.content == "Mocked code output"


async def test_it_is_a_provider_with_the_seed_properties():
    provider = MockLLMProvider()
    assert isinstance(provider, BaseLLMProvider)
    assert (provider.model, provider.temperature, provider.max_tokens) == ("mock-model", 0.7, 4096)
    custom = MockLLMProvider(LLMConfig(provider="mock", model="mock-model-large", temperature=0.1, max_tokens=50))
    assert (custom.model, custom.temperature, custom.max_tokens) == ("mock-model-large", 0.1, 50)


async def test_it_answers_queued_responses_in_order_then_the_default():
    provider = MockLLMProvider(default_response="default")
    provider.queue_responses(["first", "second"])
    provider.queue_response("third")
    assert provider.queued == 3
    answers = [(await provider.generate("x")).content for _ in range(4)]
    assert answers == ["first", "second", "third", "default"]


@pytest.mark.parametrize(
    ("prompt", "artifact_type", "marker"),
    [
        ("Write code for an order total function", "code", "def order_total("),
        ("Write pytest tests for the order module", "test", "def test_"),
        ("Generate test data fixtures for orders", "test_data", '"order_id"'),
        ("Please review this pull request", "review", "## Code review"),
        ("Create the CI pipeline configuration", "config", "runs-on:"),
        ("Deploy the service to Kubernetes", "deployment", "kind: Deployment"),
        ("Summarise the monitoring metrics from last night", "monitoring_report", "# Monitoring report"),
    ],
)
async def test_its_default_fits_the_prompt(prompt, artifact_type, marker):
    response = await MockLLMProvider().generate(prompt)
    assert response.metadata["artifact_type"] == artifact_type
    assert marker in response.content
    assert response.content == RESPONSES[artifact_type]


async def test_the_test_default_is_a_pytest_file_that_compiles():
    response = await MockLLMProvider().generate("Write unit tests")
    source = response.content.split("```python\n", 1)[1].rsplit("```", 1)[0]
    compile(source, "test_orders.py", "exec")
    assert "import pytest" in source


async def test_a_prompt_about_nothing_in_particular_gets_a_generic_answer():
    response = await MockLLMProvider().generate("Hello there")
    assert "mock response" in response.content
    assert "artifact_type" not in response.metadata


async def test_the_system_prompt_counts_when_choosing_a_default():
    response = await MockLLMProvider().generate_with_system("You are a code reviewer.", "Here is the diff.")
    assert response.metadata["artifact_type"] == "review"


async def test_it_estimates_tokens_from_text_length():
    provider = MockLLMProvider()
    provider.queue_response("x" * 40)
    response = await provider.generate("y" * 20, system="z" * 10)
    assert response.usage == LLMUsage(prompt_tokens=estimate_tokens("z" * 10 + "\n\n" + "y" * 20), completion_tokens=10)
    assert response.usage.total_tokens == response.usage.prompt_tokens + 10
    assert response.metadata["usage_source"] == "estimated"
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1


async def test_max_tokens_truncates_like_a_model_would():
    provider = MockLLMProvider()
    provider.queue_response("word " * 100)
    response = await provider.generate("x", max_tokens=5)
    assert response.finish_reason == "length"
    assert len(response.content) == 20
    assert response.usage.completion_tokens == 5


async def test_it_stops_at_a_stop_sequence():
    provider = MockLLMProvider()
    provider.queue_response("one two END three")
    response = await provider.generate("x", stop=["END"])
    assert response.content == "one two "
    assert response.finish_reason == "stop"


async def test_it_records_every_call():
    provider = MockLLMProvider()
    await provider.generate("first prompt", temperature=0.2)
    await provider.generate_with_system("be terse", "second prompt")
    await provider.generate_stream("third prompt", max_tokens=10).collect()
    assert [(call["method"], call["prompt"], call["system"], call["kwargs"]) for call in provider.call_history] == [
        ("generate", "first prompt", None, {"temperature": 0.2}),
        ("generate", "second prompt", "be terse", {}),
        ("generate_stream", "third prompt", None, {"max_tokens": 10}),
    ]
    assert all(call["created_at"].tzinfo is not None for call in provider.call_history)
    provider.clear_history()
    assert provider.call_history == []


async def test_simulate_failure_makes_calls_fail_until_reset():
    provider = MockLLMProvider()
    provider.simulate_failure("Vendor is down")
    with pytest.raises(LLMProviderUnavailableError, match="Vendor is down"):
        await provider.generate("x")
    with pytest.raises(LLMProviderUnavailableError):
        await provider.generate_stream("x").collect()
    assert await provider.validate() is False
    provider.reset_failure()
    assert (await provider.generate("x")).content
    assert await provider.validate() is True


async def test_a_simulated_failure_can_be_of_any_kind_and_last_a_number_of_calls():
    provider = MockLLMProvider()
    provider.simulate_failure("slow down", LLMRateLimitError, times=2)
    for _ in range(2):
        with pytest.raises(LLMRateLimitError, match="slow down"):
            await provider.generate("x")
    assert (await provider.generate("x")).finish_reason == "stop"


async def test_a_queued_error_is_raised_by_its_call():
    provider = MockLLMProvider()
    provider.queue_responses(["ok", LLMAuthenticationError("bad key", provider="mock"), "ok again"])
    assert (await provider.generate("x")).content == "ok"
    with pytest.raises(LLMAuthenticationError, match="bad key"):
        await provider.generate("x")
    assert (await provider.generate("x")).content == "ok again"


async def test_a_queued_response_is_returned_whole():
    scripted = LLMResponse(
        content="",
        model="mock-model",
        usage=LLMUsage(prompt_tokens=3, completion_tokens=7),
        finish_reason="tool_calls",
        metadata={"tool_calls": [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Oslo"}'}]},
    )
    provider = MockLLMProvider()
    provider.queue_response(scripted)
    response = await provider.generate("Weather in Oslo?")
    assert response == scripted
    assert response.tool_calls[0]["name"] == "get_weather"


async def test_it_rejects_unknown_keywords():
    with pytest.raises(TypeError, match="top_p"):
        await MockLLMProvider().generate("x", top_p=0.5)


async def test_it_lists_its_models_and_validates():
    provider = MockLLMProvider()
    assert await provider.get_available_models() == ["mock-model", "mock-model-large"]
    assert await provider.validate() is True


async def test_it_streams_word_sized_chunks_and_then_the_whole_response():
    provider = MockLLMProvider()
    provider.queue_response("The quick brown fox jumps")
    stream = provider.generate_stream("Write code", system="You code.")
    assert isinstance(stream, LLMStream)
    chunks = [chunk async for chunk in stream]
    assert chunks == ["The ", "quick ", "brown ", "fox ", "jumps"]
    response = stream.response
    assert response.content == "The quick brown fox jumps"
    assert response.finish_reason == "stop"
    assert response.usage.completion_tokens == estimate_tokens("The quick brown fox jumps")
    assert response.metadata["streamed"] is True
    assert provider.last_response is response
    assert provider.call_history[0]["system"] == "You code."


def test_word_chunks_join_back_to_the_text():
    text = "  leading\n\nand   trailing  "
    assert "".join(word_chunks(text)) == text


async def test_the_response_is_not_there_while_the_stream_is_open():
    stream = MockLLMProvider().generate_stream("x")
    with pytest.raises(RuntimeError, match="still open"):
        _ = stream.response
    await stream.collect()
    assert stream.done


async def test_closing_a_stream_half_way_keeps_the_partial_text_and_its_cost():
    provider = MockLLMProvider()
    provider.queue_response("one two three four five six")
    finished: list[LLMResponse] = []
    stream = provider.generate_stream("count")
    stream.add_finish_callback(finished.append)
    received = [await anext(stream), await anext(stream)]
    await stream.aclose()
    response = stream.response
    assert received == ["one ", "two "]
    assert stream.text == response.content == "one two "
    assert response.finish_reason == "error"
    assert response.metadata["cancelled"] is True
    assert response.metadata["usage_source"] == "estimated"
    assert response.usage.prompt_tokens == estimate_tokens("count")
    assert response.usage.completion_tokens == estimate_tokens("one two ")
    assert finished == [response]
    assert [chunk async for chunk in stream] == []


async def test_leaving_an_async_with_block_closes_the_stream():
    provider = MockLLMProvider()
    provider.queue_response("alpha beta gamma")
    async with provider.generate_stream("x") as stream:
        async for chunk in stream:
            if chunk == "beta ":
                break
    assert stream.response.content == "alpha beta "
    assert stream.response.metadata["cancelled"] is True


async def test_cancelling_the_consuming_task_still_leaves_a_response():
    provider = MockLLMProvider(stream_delay_seconds=0.05)
    provider.queue_response("a b c d e f g h")
    stream = provider.generate_stream("x")

    async def consume() -> None:
        async for _chunk in stream:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 0 < len(stream.response.content) < len("a b c d e f g h")
    assert stream.response.metadata["cancelled"] is True
    assert stream.response.usage.completion_tokens > 0


async def test_an_abandoned_stream_still_reports_what_it_spent():
    provider = MockLLMProvider()
    provider.queue_response("one two three")
    finished: list[LLMResponse] = []
    stream = provider.generate_stream("x")
    stream.add_finish_callback(finished.append)
    async for _chunk in stream:
        break
    del stream
    gc.collect()
    assert [response.content for response in finished] == ["one "]
    assert finished[0].metadata["cancelled"] is True


async def test_a_stream_closed_before_it_started_cost_nothing():
    provider = MockLLMProvider()
    stream = provider.generate_stream("x")
    await stream.aclose()
    assert stream.response.usage == LLMUsage()
    assert stream.response.metadata["usage_source"] == "none"
    assert provider.call_history == []


async def test_streaming_goes_at_the_configured_pace():
    provider = MockLLMProvider(LLMConfig(provider="mock", model="mock-model", options={"stream_delay_seconds": 0.02}))
    assert provider.stream_delay_seconds == 0.02
    provider.queue_response("one two three four five")
    started = time.perf_counter()
    await provider.generate_stream("x").collect()
    assert time.perf_counter() - started >= 5 * 0.02
    assert MockLLMProvider(stream_delay_seconds=0.5).stream_delay_seconds == 0.5


async def test_a_streamed_queued_response_keeps_its_usage_and_tool_calls():
    provider = MockLLMProvider()
    provider.queue_response(
        LLMResponse(
            content="calling a tool",
            model="mock-model",
            usage=LLMUsage(prompt_tokens=11, completion_tokens=22),
            finish_reason="tool_calls",
            metadata={"tool_calls": [{"id": "c1", "name": "f", "arguments": "{}"}], "usage_source": "vendor"},
        )
    )
    response = await provider.generate_stream("x").collect()
    assert response.usage == LLMUsage(prompt_tokens=11, completion_tokens=22)
    assert response.finish_reason == "tool_calls"
    assert response.tool_calls == [{"id": "c1", "name": "f", "arguments": "{}"}]
    assert response.metadata["usage_source"] == "vendor"
