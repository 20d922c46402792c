"""Identical requests to a config with caching on are answered from Django's cache, free."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache

from llm.configured import aprovider_for
from llm.models import LLMCall
from llm.usage import usage_totals
from tests.factories import make_provider_config

pytestmark = pytest.mark.django_db(transaction=True)

PRICED = {"input_price_per_million": Decimal(1), "output_price_per_million": Decimal(2)}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


async def cached_provider(**fields):
    config = await sync_to_async(make_provider_config)(cache_enabled=True, cache_ttl_seconds=60, **PRICED, **fields)
    return await aprovider_for(config.name)


async def test_an_identical_request_is_answered_from_the_cache() -> None:
    provider = await cached_provider()
    first = await provider.generate("Write a parser", system="Be terse", temperature=0.2)
    second = await provider.generate("Write a parser", system="Be terse", temperature=0.2, agent_id="reviewer")

    assert len(provider.wrapped.call_history) == 1  # the mock was not called again
    assert second.content == first.content and second.usage == first.usage
    assert second.metadata["cache_hit"] is True
    original = await LLMCall.objects.aget(pk=first.metadata["ledger"]["call_id"])
    hit = await LLMCall.objects.aget(pk=second.metadata["ledger"]["call_id"])
    assert (hit.status, hit.cost_usd, hit.price_source, hit.agent_id) == ("cached", 0, "cache", "reviewer")
    assert hit.saved_usd == original.cost_usd > 0
    assert hit.cached_from_id == original.pk and hit.cache_key == original.cache_key != ""

    totals = await sync_to_async(usage_totals)()
    assert (totals.calls, totals.cached_calls) == (2, 1)
    assert totals.total_tokens == original.total_tokens  # tokens the vendor spent, once
    assert totals.cost_usd == original.cost_usd and totals.saved_usd == original.cost_usd


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": "Write a lexer"},
        {"system": "Be verbose"},
        {"temperature": 0.9},
        {"max_tokens": 50},
        {"stop": ["END"]},
    ],
)
async def test_a_different_request_is_not_a_hit(change: dict) -> None:
    provider = await cached_provider()
    request = {"prompt": "Write a parser", "system": "Be terse", "temperature": 0.2}
    await provider.generate(**request)
    await provider.generate(**{**request, **change})
    assert len(provider.wrapped.call_history) == 2


async def test_without_caching_every_call_goes_to_the_provider() -> None:
    config = await sync_to_async(make_provider_config)(cache_enabled=False)
    provider = await aprovider_for(config.name)
    await provider.generate("Write a parser")
    await provider.generate("Write a parser")
    assert len(provider.wrapped.call_history) == 2
    assert await LLMCall.objects.filter(status="cached").acount() == 0


async def test_an_answer_expires_after_the_ttl() -> None:
    provider = await cached_provider(name="short-lived")
    config = provider.provider_config
    config.cache_ttl_seconds = 1
    await provider.generate("Write a parser")
    await asyncio.sleep(1.2)
    await provider.generate("Write a parser")
    assert len(provider.wrapped.call_history) == 2


async def test_failed_calls_are_not_cached() -> None:
    provider = await cached_provider()
    provider.wrapped.simulate_failure("down", times=1)
    with pytest.raises(Exception, match="down"):
        await provider.generate("Write a parser")
    await provider.generate("Write a parser")
    await provider.generate("Write a parser")
    assert len(provider.wrapped.call_history) == 2
    statuses = [status async for status in LLMCall.objects.order_by("id").values_list("status", flat=True)]
    assert statuses == ["error", "ok", "cached"]


async def test_a_stream_is_cached_and_replayed_as_a_stream() -> None:
    provider = await cached_provider()
    first = provider.generate_stream("Write a review")
    first_text = "".join([chunk async for chunk in first])
    second = provider.generate_stream("Write a review")
    chunks = [chunk async for chunk in second]

    assert len(chunks) > 1 and "".join(chunks) == first_text
    assert len(provider.wrapped.call_history) == 1
    assert second.response.usage == first.response.usage
    hit = await LLMCall.objects.aget(pk=second.response.metadata["ledger"]["call_id"])
    assert (hit.status, hit.streamed, hit.cost_usd, hit.response) == ("cached", True, 0, first_text)
    # A plain call with the same request is the same cache entry.
    plain = await provider.generate("Write a review")
    assert plain.content == first_text and len(provider.wrapped.call_history) == 1


async def test_a_stream_closed_early_is_not_cached() -> None:
    provider = await cached_provider()
    async with provider.generate_stream("Write a review") as stream:
        async for _chunk in stream:
            break
    await provider.generate("Write a review")
    assert len(provider.wrapped.call_history) == 2


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


async def test_redis_serves_the_cache_when_redis_url_is_set(settings) -> None:
    if not _redis_reachable():
        from tests.conftest import service_missing

        service_missing("Redis is not running at 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    from django.core.cache import caches

    assert type(caches["default"]).__name__ == "RedisCache"
    await caches["default"].aclear()
    provider = await cached_provider()
    await provider.generate("Write a parser")
    hit = await provider.generate("Write a parser")
    assert hit.metadata["ledger"]["status"] == "cached"
    assert len(provider.wrapped.call_history) == 1
    await caches["default"].aclear()
