"""The recording wrapper: every call saved, however it ends, with attribution, tokens and cost."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
from collections.abc import AsyncGenerator
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.apps import apps as django_apps
from django.core.cache import cache
from django.db import connection

from llm.configured import ProviderConfigDisabled, ProviderConfigNotFound, aprovider_for, provider_for
from llm.models import LLMCall, ProviderConfig
from llm.providers import (
    BaseLLMProvider,
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMConfig,
    LLMProviderUnavailableError,
    LLMRequest,
    LLMResponse,
    LLMUsage,
    MockLLMProvider,
    estimate_tokens,
)
from llm.providers.streaming import StreamState
from llm.recording import RecordingProvider, attribution
from llm.usage import usage_totals
from tests.factories import make_provider_config

pytestmark = pytest.mark.django_db(transaction=True)

LONG_TEXT = " ".join(f"word{n}" for n in range(200))
PRICED = {"input_price_per_million": Decimal(1), "output_price_per_million": Decimal(2)}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


async def config(**fields) -> ProviderConfig:
    return await sync_to_async(make_provider_config)(**fields)


async def recorded(response: LLMResponse) -> LLMCall:
    return await LLMCall.objects.aget(pk=response.metadata["ledger"]["call_id"])


async def only_call() -> LLMCall:
    calls = [call async for call in LLMCall.objects.all()]
    assert len(calls) == 1
    return calls[0]


def cost(usage: LLMUsage) -> Decimal:
    """The cost under PRICED."""
    return (usage.prompt_tokens * 1 + usage.completion_tokens * Decimal(2)) / 1_000_000


class HalfWayFailure(BaseLLMProvider):
    """A vendor whose stream breaks after two chunks, without sending usage."""

    async def get_available_models(self) -> list[str]:
        return [self.model]

    async def _generate(self, request: LLMRequest) -> LLMResponse:
        raise LLMProviderUnavailableError("connection reset", provider=self.name)

    async def _stream(self, request: LLMRequest, state: StreamState) -> AsyncGenerator[str]:
        state.started = True
        yield "The first "
        yield "half of an answer"
        raise LLMProviderUnavailableError("connection reset mid-stream", provider=self.name)


async def test_the_seed_usage_works_through_a_configured_provider() -> None:
    provider = await aprovider_for((await config()).name)
    assert isinstance(provider, BaseLLMProvider)
    provider.wrapped.queue_response("Mocked code output")
    response = await provider.generate("Write code")
    assert response.content == "Mocked code output"
    assert provider.model == "mock-model" and provider.temperature == 0.7 and provider.max_tokens == 4096
    assert await provider.validate()
    assert "mock-model" in await provider.get_available_models()


async def test_an_ok_call_is_recorded_with_its_usage_and_cost() -> None:
    cfg = await config(temperature=0.3, **PRICED)
    provider = await aprovider_for(cfg.name)
    provider.wrapped.queue_response("def add(a, b):\n    return a + b\n")
    response = await provider.generate("Write add", system="Be terse", max_tokens=100, stop=["###"])

    call = await recorded(response)
    assert (call.status, call.config_id, call.config_name, call.provider, call.model) == (
        "ok",
        cfg.pk,
        cfg.name,
        "mock",
        "mock-model",
    )
    assert (call.system, call.prompt, call.response, call.finish_reason) == (
        "Be terse",
        "Write add",
        response.content,
        "stop",
    )
    assert (call.prompt_tokens, call.completion_tokens, call.total_tokens) == (
        response.usage.prompt_tokens,
        response.usage.completion_tokens,
        response.usage.total_tokens,
    )
    assert call.total_tokens > 0
    assert call.cost_usd == cost(response.usage)
    assert Decimal(response.metadata["ledger"]["cost_usd"]) == call.cost_usd
    assert (call.price_source, call.usage_source) == ("config", "estimated")  # the mock estimates its usage
    assert call.request_params == {"temperature": 0.3, "max_tokens": 100, "stop": ["###"]}
    assert call.latency_ms is not None and call.time_to_first_token_ms is None and not call.streamed
    assert call.error_class == "" and call.error_message == ""


async def test_vendor_usage_and_cache_tokens_are_priced_with_genai_prices() -> None:
    cfg = await config(provider="openai", model="gpt-4o")
    inner = MockLLMProvider(LLMConfig(provider="openai", model="gpt-4o"))
    usage = LLMUsage(prompt_tokens=1000, completion_tokens=100, cache_read_tokens=400)
    inner.queue_response(LLMResponse("hi", "gpt-4o-2024-08-06", usage, metadata={"usage_source": "vendor"}))
    response = await RecordingProvider(inner, config=cfg).generate("Say hi")

    call = await recorded(response)
    assert (call.provider, call.model, call.cache_read_tokens, call.usage_source) == (
        "openai",
        "gpt-4o-2024-08-06",
        400,
        "vendor",
    )
    # 600 uncached at $2.50/M, 400 cached at $1.25/M, 100 out at $10/M.
    assert call.cost_usd == Decimal("0.003")
    assert call.price_source == "genai-prices"
    assert call.metadata["price"]["model_id"] == "gpt-4o"


async def test_an_unknown_model_is_recorded_with_cost_unknown() -> None:
    inner = MockLLMProvider(LLMConfig(provider="openai", model="gpt-unreleased-9"))
    response = await RecordingProvider(inner, config=await config(provider="openai", model="x")).generate("hi")
    call = await recorded(response)
    assert call.total_tokens > 0
    assert call.cost_usd is None and call.price_source == "unknown"
    assert response.metadata["ledger"]["cost_usd"] is None
    totals = await sync_to_async(usage_totals)()
    assert totals.unknown_cost_calls == 1 and not totals.cost_complete


async def test_a_failed_call_is_recorded_and_the_error_still_reaches_the_caller() -> None:
    provider = await aprovider_for((await config(**PRICED)).name)
    provider.wrapped.simulate_failure("vendor overloaded", LLMProviderUnavailableError)
    with pytest.raises(LLMProviderUnavailableError, match="vendor overloaded"):
        await provider.generate("Write code", workflow_id="wf-err")
    call = await only_call()
    assert (call.status, call.error_class, call.error_message) == (
        "error",
        "LLMProviderUnavailableError",
        "vendor overloaded",
    )
    assert (call.total_tokens, call.cost_usd, call.workflow_id) == (0, Decimal(0), "wf-err")


async def test_invalid_arguments_raise_before_any_call_and_are_not_recorded() -> None:
    provider = await aprovider_for((await config()).name)
    with pytest.raises(LLMBadRequestError, match="temperature"):
        await provider.generate("x", temperature=7)
    with pytest.raises(TypeError, match="bogus"):
        await provider.generate("x", bogus=1)
    with pytest.raises(TypeError, match="agent_id"):
        await provider.generate("x", agent_id=42)
    assert await LLMCall.objects.acount() == 0


async def test_attribution_comes_from_keywords_binding_and_context() -> None:
    name = (await config()).name
    bound = await aprovider_for(name, agent_id="bound-agent")
    plain = await aprovider_for(name)
    with attribution(workflow_id="wf-ctx", task_id="task-ctx"):
        a = await bound.generate("a")
        b = await bound.generate("b", agent_id="kw-agent", task_id="task-kw")
        with attribution(agent_id="ctx-agent"):
            c = await plain.generate("c")
            d = await bound.generate_with_system("sys", "d")
    e = await plain.generate("e")
    who = [(call.agent_id, call.workflow_id, call.task_id) for call in [await recorded(r) for r in (a, b, c, d, e)]]
    assert who == [
        ("bound-agent", "wf-ctx", "task-ctx"),
        ("kw-agent", "wf-ctx", "task-kw"),
        ("ctx-agent", "wf-ctx", "task-ctx"),
        ("bound-agent", "wf-ctx", "task-ctx"),  # what the provider was made for beats the surrounding block
        ("", "", ""),
    ]


async def test_attribution_follows_concurrent_tasks() -> None:
    provider = await aprovider_for((await config()).name)

    async def agent(agent_id: str) -> LLMResponse:
        with attribution(agent_id=agent_id):
            await asyncio.sleep(0)
            return await provider.generate(f"work of {agent_id}")

    with attribution(workflow_id="wf-par"):
        responses = await asyncio.gather(*(agent(f"agent-{n}") for n in range(4)))
    calls = [await recorded(r) for r in responses]
    assert [(c.agent_id, c.workflow_id, c.prompt) for c in calls] == [
        (f"agent-{n}", "wf-par", f"work of agent-{n}") for n in range(4)
    ]


async def test_a_completed_stream_is_recorded() -> None:
    provider = await aprovider_for((await config(**PRICED)).name, agent_id="streamer")
    provider.wrapped.queue_response("one two three four")
    stream = provider.generate_stream("Count to four", system="Be brief")
    chunks = [chunk async for chunk in stream]
    assert "".join(chunks) == "one two three four"

    call = await recorded(stream.response)
    assert (call.status, call.streamed, call.response, call.system, call.agent_id) == (
        "ok",
        True,
        "one two three four",
        "Be brief",
        "streamer",
    )
    assert call.completion_tokens == estimate_tokens("one two three four")
    assert call.cost_usd == cost(stream.response.usage) > 0
    assert call.time_to_first_token_ms is not None


async def test_a_stream_closed_early_is_recorded_with_what_it_spent() -> None:
    provider = await aprovider_for((await config(**PRICED)).name)
    provider.wrapped.queue_response(LONG_TEXT)
    received = []
    async with provider.generate_stream("Write a lot") as stream:
        async for chunk in stream:
            received.append(chunk)
            if len(received) == 3:
                break
    text = "".join(received)
    call = await only_call()
    assert (call.status, call.response, call.usage_source) == ("cancelled", text, "estimated")
    assert call.completion_tokens == estimate_tokens(text) > 0
    assert call.prompt_tokens == estimate_tokens("Write a lot")
    assert call.cost_usd == cost(stream.response.usage) > 0
    assert stream.response.metadata["ledger"]["call_id"] == call.pk


async def test_a_stream_whose_task_is_cancelled_is_recorded() -> None:
    provider = await aprovider_for((await config(**PRICED)).name)
    provider.wrapped.queue_response(LONG_TEXT)
    provider.wrapped.stream_delay_seconds = 0.02
    received: list[str] = []

    async def consume() -> None:
        async for chunk in provider.generate_stream("Write a lot"):
            received.append(chunk)

    task = asyncio.create_task(consume())
    while len(received) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    call = await only_call()
    assert call.status == "cancelled"
    assert call.response == "".join(received)
    assert call.completion_tokens == estimate_tokens(call.response) > 0
    assert call.cost_usd > 0


async def test_a_stream_that_fails_half_way_is_recorded_with_its_tokens() -> None:
    cfg = await config(**PRICED)
    provider = RecordingProvider(HalfWayFailure(LLMConfig(provider="mock", model="mock-model")), config=cfg)
    received = []
    with pytest.raises(LLMProviderUnavailableError, match="mid-stream"):
        async for chunk in provider.generate_stream("Explain", workflow_id="wf-half"):
            received.append(chunk)
    call = await only_call()
    assert (call.status, call.error_class, call.response, call.workflow_id) == (
        "error",
        "LLMProviderUnavailableError",
        "The first half of an answer",
        "wf-half",
    )
    assert call.completion_tokens == estimate_tokens("The first half of an answer")
    assert call.usage_source == "estimated" and call.cost_usd > 0


async def test_a_failed_recording_never_fails_the_call(caplog) -> None:
    provider = await aprovider_for((await config()).name)
    provider.wrapped.queue_response("fine")
    with caplog.at_level(logging.ERROR, logger="llm.recording"):
        # PostgreSQL text cannot hold NUL, so this call cannot be saved.
        response = await provider.generate("a prompt with a \x00 in it")
    assert response.content == "fine"
    assert response.metadata["ledger"]["call_id"] is None
    assert "NOT recorded" in caplog.text
    assert await LLMCall.objects.acount() == 0


async def test_a_vendor_error_that_echoes_the_key_is_stored_without_it(caplog) -> None:
    raw_key = "sk-live-1234567890abcdefghijklmnopqrstuv"
    cfg = await config()
    cfg.set_api_key(raw_key)
    await cfg.asave()
    provider = await aprovider_for(cfg.name)
    provider.wrapped.queue_response(LLMAuthenticationError(f"Incorrect API key provided: {raw_key}"))
    with caplog.at_level(logging.DEBUG), pytest.raises(LLMAuthenticationError):
        await provider.generate("hi")
    call = await only_call()
    assert call.error_message == "Incorrect API key provided: sk-…stuv"
    assert raw_key not in caplog.text
    assert raw_key not in repr(provider) and raw_key not in repr(provider.config)


def test_unknown_and_disabled_configs_are_refused(db) -> None:
    make_provider_config(name="sleeping", enabled=False)
    with pytest.raises(ProviderConfigNotFound, match="no-such-config"):
        provider_for("no-such-config")
    with pytest.raises(ProviderConfigDisabled, match="sleeping"):
        provider_for("sleeping")


def test_the_data_migration_makes_a_free_mock_config(db) -> None:
    # Transactional tests empty the tables, so run the migration's step rather than trust the row is there.
    migration = importlib.import_module("llm.migrations.0003_mock_config_and_cache_table")
    ProviderConfig.objects.filter(name="mock").delete()
    with connection.schema_editor() as schema_editor:
        migration.create_mock_config(django_apps, schema_editor)
    mock = ProviderConfig.objects.get(name="mock")
    assert (mock.provider, mock.model, mock.enabled, mock.has_price_override) == ("mock", "mock-model", True, True)
    provider = provider_for("mock")
    response = async_to_sync(provider.generate)("Write a deployment manifest")
    call = LLMCall.objects.get(pk=response.metadata["ledger"]["call_id"])
    assert call.cost_usd == 0 and call.price_source == "config" and call.total_tokens > 0


async def test_a_stream_abandoned_without_closing_is_still_recorded() -> None:
    provider = await aprovider_for((await config(**PRICED)).name)
    provider.wrapped.queue_response(LONG_TEXT)
    stream = provider.generate_stream("Write a lot")
    received = [await anext(stream), await anext(stream)]
    del stream
    gc.collect()
    for _ in range(100):  # the event loop finalises the abandoned generator and records it
        if await LLMCall.objects.acount():
            break
        await asyncio.sleep(0.02)
    call = await only_call()
    assert call.status == "cancelled" and call.response == "".join(received)
    assert call.completion_tokens > 0 and call.cost_usd > 0
