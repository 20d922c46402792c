"""The ledger end to end: configured OpenAI and Anthropic providers (official SDKs) against the fake vendor
servers, so vendor usage, prompt-cache tokens, stored keys and broken streams are the real thing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from llm.configured import aprovider_for
from llm.models import LLMCall, ProviderConfig
from llm.providers import LLMAuthenticationError, LLMProviderUnavailableError, estimate_tokens
from tests.llm.vendor_servers import FAKE_API_KEY, Reply

pytestmark = pytest.mark.django_db(transaction=True)

M = Decimal(1_000_000)


def configure(server, *, model: str, key: str = FAKE_API_KEY, **fields) -> ProviderConfig:
    config = ProviderConfig(
        name=f"{server.provider_name}-fake",
        provider=server.provider_name,
        model=model,
        base_url=server.base_url,
        timeout_seconds=2,
        max_retries=0,
        **fields,
    )
    config.set_api_key(key)  # stored encrypted; the SDK must get it back to pass the server's check
    config.save()
    return config


async def only_call() -> LLMCall:
    calls = [call async for call in LLMCall.objects.all()]
    assert len(calls) == 1
    return calls[0]


async def test_openai_usage_with_cached_prompt_tokens_is_recorded_and_priced(openai_server) -> None:
    await sync_to_async(configure)(openai_server, model="gpt-4o")
    openai_server.queue(Reply(text="Done.", prompt_tokens=2000, completion_tokens=100, cache_read_tokens=1500))
    provider = await aprovider_for("openai-fake", agent_id="coder")
    response = await provider.generate("Refactor this", system="You are careful")

    call = await only_call()
    assert openai_server.last_request.headers["authorization"] == f"Bearer {FAKE_API_KEY}"
    assert (call.prompt_tokens, call.completion_tokens, call.cache_read_tokens, call.usage_source) == (
        2000,
        100,
        1500,
        "vendor",
    )
    # gpt-4o: 500 uncached at $2.50/M, 1,500 cached at $1.25/M, 100 out at $10/M.
    assert call.cost_usd == (500 * Decimal("2.5") + 1500 * Decimal("1.25") + 100 * 10) / M
    assert (call.price_source, call.provider, call.agent_id) == ("genai-prices", "openai", "coder")
    assert response.metadata["ledger"]["call_id"] == call.pk


async def test_anthropic_cache_reads_and_writes_are_priced_at_their_own_rates(anthropic_server) -> None:
    await sync_to_async(configure)(anthropic_server, model="claude-sonnet-4-6")
    usage = {"prompt_tokens": 10_000, "completion_tokens": 500, "cache_read_tokens": 6000, "cache_write_tokens": 3000}
    anthropic_server.queue(Reply(text="Reviewed.", **usage))
    provider = await aprovider_for("anthropic-fake")
    stream = provider.generate_stream("Review this diff")
    assert "".join([chunk async for chunk in stream]) == "Reviewed."

    call = await only_call()
    assert (call.prompt_tokens, call.cache_read_tokens, call.cache_write_tokens, call.streamed) == (
        10_000,
        6000,
        3000,
        True,
    )
    # Sonnet 4.6: 1,000 uncached at $3/M, 6,000 read at $0.30/M, 3,000 written at $3.75/M, 500 out at $15/M.
    expected = (1000 * 3 + 6000 * Decimal("0.3") + 3000 * Decimal("3.75") + 500 * 15) / M
    assert call.cost_usd == expected
    assert call.time_to_first_token_ms is not None


async def test_a_vendor_stream_that_breaks_half_way_is_recorded_with_its_cost(openai_server) -> None:
    await sync_to_async(configure)(openai_server, model="gpt-4o-mini")
    openai_server.queue(Reply(text="one two three four five six seven eight nine ten", error_after_chunks=2))
    provider = await aprovider_for("openai-fake")
    received = []
    with pytest.raises(LLMProviderUnavailableError):
        async for chunk in provider.generate_stream("Count to ten"):
            received.append(chunk)

    call = await only_call()
    assert call.status == "error" and call.response == "".join(received) != ""
    assert call.usage_source == "estimated"
    assert call.completion_tokens == estimate_tokens(call.response)
    assert call.cost_usd > 0 and call.price_source == "genai-prices"


async def test_a_stream_closed_early_against_the_vendor_is_not_free(openai_server) -> None:
    await sync_to_async(configure)(openai_server, model="gpt-4o-mini")
    openai_server.queue(Reply(text=" ".join(["token"] * 200), chunk_delay_seconds=0.005))
    provider = await aprovider_for("openai-fake")
    async with provider.generate_stream("Write a lot") as stream:
        async for _chunk in stream:
            break
    call = await only_call()
    assert call.status == "cancelled" and call.completion_tokens > 0 and call.cost_usd > 0


async def test_a_rejected_key_is_recorded_without_the_key(openai_server) -> None:
    wrong_key = "sk-wrong-key-abcdefghijklmnopqrstuvwxyz"
    await sync_to_async(configure)(openai_server, model="gpt-4o", key=wrong_key)
    provider = await aprovider_for("openai-fake")
    with pytest.raises(LLMAuthenticationError):
        await provider.generate("hi")
    call = await only_call()
    assert (call.status, call.error_class) == ("error", "LLMAuthenticationError")
    assert wrong_key not in call.error_message
