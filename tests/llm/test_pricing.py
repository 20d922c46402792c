from __future__ import annotations

from decimal import Decimal

import pytest

from llm.models import PriceSource, ProviderConfig
from llm.pricing import price_call
from llm.providers import LLMUsage


def test_it_prices_a_known_model_with_genai_prices() -> None:
    price = price_call(
        provider="openai", model="gpt-4o", usage=LLMUsage(prompt_tokens=1_000_000, completion_tokens=100_000)
    )
    assert price.cost_usd == Decimal("2.5") + Decimal("1.0")  # $2.50/M in, $10/M out
    assert price.source == PriceSource.GENAI_PRICES
    assert price.detail["model_id"] == "gpt-4o"
    assert price.detail["source"].startswith("genai-prices ")


def test_a_dated_model_name_finds_its_price() -> None:
    price = price_call(provider="openai", model="gpt-4o-mini-2024-07-18", usage=LLMUsage(prompt_tokens=1_000_000))
    assert price.cost_usd == Decimal("0.15")


def test_openai_cached_prompt_tokens_cost_their_own_rate() -> None:
    usage = LLMUsage(prompt_tokens=1_000_000, cache_read_tokens=400_000)
    price = price_call(provider="openai", model="gpt-4o", usage=usage)
    # 600k uncached at $2.50/M + 400k cached at $1.25/M; charging all at the input price would be $2.50.
    assert price.cost_usd == Decimal("1.5") + Decimal("0.5")


def test_anthropic_cache_reads_and_writes_cost_their_own_rates() -> None:
    usage = LLMUsage(
        prompt_tokens=100_000, completion_tokens=10_000, cache_read_tokens=50_000, cache_write_tokens=20_000
    )
    price = price_call(provider="anthropic", model="claude-sonnet-4-5", usage=usage)
    # Sonnet 4.5: $3/M input, $0.30/M cache read, $3.75/M cache write, $15/M output.
    expected = (30_000 * Decimal(3) + 50_000 * Decimal("0.3") + 20_000 * Decimal("3.75") + 10_000 * Decimal(15)) / (
        1_000_000
    )
    assert price.cost_usd == expected


def test_an_unknown_model_costs_unknown_not_zero() -> None:
    price = price_call(provider="openai", model="gpt-does-not-exist", usage=LLMUsage(prompt_tokens=10))
    assert price.cost_usd is None
    assert price.source == PriceSource.UNKNOWN
    assert "gpt-does-not-exist" in price.detail["reason"]


@pytest.mark.parametrize("provider", ["mock", "some-registered-provider"])
def test_a_provider_genai_prices_does_not_know_costs_unknown(provider: str) -> None:
    assert price_call(provider=provider, model="gpt-4o", usage=LLMUsage(prompt_tokens=10)).cost_usd is None


def test_openai_compatible_is_priced_by_its_url_and_a_local_server_is_not() -> None:
    usage = LLMUsage(prompt_tokens=1000, completion_tokens=1000)
    hosted = ProviderConfig(provider="openai-compatible", base_url="https://api.groq.com/openai/v1")
    local = ProviderConfig(provider="openai-compatible", base_url="http://localhost:11434/v1")
    assert price_call(provider="openai-compatible", model="llama-3.1-8b-instant", usage=usage, config=hosted).cost_usd
    assert price_call(provider="openai-compatible", model="llama3.1", usage=usage, config=local).cost_usd is None


def test_config_prices_override_genai_prices() -> None:
    config = ProviderConfig(
        name="negotiated",
        provider="openai",
        model="gpt-4o",
        input_price_per_million=Decimal("2"),
        output_price_per_million=Decimal("8"),
    )
    usage = LLMUsage(prompt_tokens=500_000, completion_tokens=250_000, cache_read_tokens=100_000)
    price = price_call(provider="openai", model="gpt-4o", usage=usage, config=config)
    # Without a cache price the cached tokens cost the input price.
    assert price.cost_usd == Decimal(1) + Decimal(2)
    assert price.source == PriceSource.CONFIG
    config.cache_read_price_per_million = Decimal("0.5")
    price = price_call(provider="openai", model="gpt-4o", usage=usage, config=config)
    assert price.cost_usd == Decimal("0.8") + Decimal("0.05") + Decimal(2)


def test_a_config_can_price_a_model_genai_prices_does_not_know() -> None:
    config = ProviderConfig(
        provider="openai-compatible",
        base_url="http://localhost:11434/v1",
        input_price_per_million=Decimal("0.1"),
        output_price_per_million=Decimal("0.1"),
    )
    usage = LLMUsage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert price_call(provider="openai-compatible", model="llama3.1", usage=usage, config=config).cost_usd == Decimal(
        "0.2"
    )
