"""The cost of one call in USD: a config's own prices when it overrides them, else genai-prices.

Prompt-cache tokens are priced at their own rates: `LLMUsage.prompt_tokens` includes the cache read
and cache write tokens (the split genai-prices uses too), so only the rest is charged at the input
price. A model with no known price costs None — unknown, never zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import genai_prices

from llm.models import PriceSource, ProviderConfig
from llm.providers import LLMUsage

log = logging.getLogger(__name__)

MILLION = Decimal(1_000_000)
GENAI_PRICES = f"genai-prices {genai_prices.__version__}"
# Our provider names that genai-prices knows by another id; openai-compatible is matched by base URL.
_GENAI_PROVIDER_IDS = {"openai": "openai", "anthropic": "anthropic"}


@dataclass(frozen=True, slots=True)
class Price:
    cost_usd: Decimal | None
    source: PriceSource
    detail: dict[str, Any] = field(default_factory=dict)
    """What priced it, for the call's metadata (e.g. the genai-prices version and matched model)."""


def price_call(
    *,
    provider: str,
    model: str,
    usage: LLMUsage,
    config: ProviderConfig | None = None,
    at: datetime | None = None,
) -> Price:
    """The cost of `usage` on `provider`/`model` (a config's overrides win); cost None when unknown."""
    if config is not None and config.has_price_override:
        return Price(_override_cost(config, usage), PriceSource.CONFIG, {"source": "config", "config": config.name})
    return _genai_price(provider=provider, model=model, usage=usage, base_url=config.base_url if config else "", at=at)


def _override_cost(config: ProviderConfig, usage: LLMUsage) -> Decimal:
    input_price = config.input_price_per_million or Decimal(0)
    read_price = config.cache_read_price_per_million
    write_price = config.cache_write_price_per_million
    uncached = max(0, usage.prompt_tokens - usage.cache_read_tokens - usage.cache_write_tokens)
    total = (
        uncached * input_price
        + usage.cache_read_tokens * (input_price if read_price is None else read_price)
        + usage.cache_write_tokens * (input_price if write_price is None else write_price)
        + usage.completion_tokens * (config.output_price_per_million or Decimal(0))
    )
    return total / MILLION


def _genai_price(*, provider: str, model: str, usage: LLMUsage, base_url: str, at: datetime | None) -> Price:
    where: dict[str, str] = {}
    if provider in _GENAI_PROVIDER_IDS:
        where["provider_id"] = _GENAI_PROVIDER_IDS[provider]
    elif provider == "openai-compatible" and base_url:
        # A hosted OpenAI-compatible API (Groq, Together, OpenRouter, …) is known by its URL;
        # a local server (Ollama, vLLM) is not, and its calls stay unpriced.
        where["provider_api_url"] = base_url
    else:
        return Price(None, PriceSource.UNKNOWN, {"reason": f"genai-prices has no prices for provider {provider!r}"})
    genai_usage = genai_prices.Usage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
    try:
        calculation = genai_prices.calc_price(genai_usage, model, genai_request_timestamp=at, **where)
    except LookupError as exc:
        return Price(None, PriceSource.UNKNOWN, {"reason": str(exc)})
    except Exception:
        # A price table problem must not lose the call; the cost is unknown rather than wrong.
        log.exception("genai-prices failed to price %s/%s", provider, model)
        return Price(None, PriceSource.UNKNOWN, {"reason": "genai-prices failed"})
    detail = {"source": GENAI_PRICES, "provider_id": calculation.provider.id, "model_id": calculation.model.id}
    return Price(Decimal(calculation.total_price), PriceSource.GENAI_PRICES, detail)
