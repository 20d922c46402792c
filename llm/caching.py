"""Answers to identical requests from Django's cache (the database by default, Redis with REDIS_URL).

A request is identical when provider, model, base URL, system prompt, prompt and every parameter
(temperature, max_tokens, stop, tools, tool_choice) are. Only complete answers are stored. The cache
is an optimisation: when it is unreachable the call goes to the vendor and a warning is logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import caches

from llm.providers import LLMConfig, LLMRequest, LLMResponse, LLMUsage

log = logging.getLogger(__name__)

CACHE_ALIAS = "default"
KEY_PREFIX = "conductor:llm:v1:"


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A stored answer and the call that paid for it."""

    response: LLMResponse
    call_id: int | None
    cost_usd: Decimal | None


def request_fingerprint(config: LLMConfig, request: LLMRequest) -> str:
    """A sha256 over everything that shapes the answer (never the API key)."""
    shape = {
        "provider": config.provider,
        "model": config.model,
        "base_url": config.base_url or "",
        "system": request.system or "",
        "prompt": request.prompt,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "stop": list(request.stop),
        "tools": list(request.tools),
        "tool_choice": request.tool_choice,
    }
    encoded = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


async def cached_answer(fingerprint: str) -> CachedAnswer | None:
    try:
        stored = await caches[CACHE_ALIAS].aget(KEY_PREFIX + fingerprint)
    except Exception:
        log.warning("LLM cache read failed; calling the provider instead", exc_info=True)
        return None
    if not isinstance(stored, dict):
        return None
    try:
        return _from_stored(stored)
    except (KeyError, TypeError, ValueError):
        log.warning("Ignoring an unreadable LLM cache entry %s", fingerprint)
        return None


async def store_answer(
    fingerprint: str, response: LLMResponse, *, call_id: int | None, cost_usd: Decimal | None, ttl_seconds: int
) -> None:
    if response.finish_reason == "error" or ttl_seconds <= 0:
        return
    usage = response.usage
    stored = {
        "content": response.content,
        "model": response.model,
        "finish_reason": response.finish_reason,
        "usage": [
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
        ],
        "usage_source": response.metadata.get("usage_source", "vendor"),
        "tool_calls": response.metadata.get("tool_calls", []),
        "call_id": call_id,
        "cost_usd": None if cost_usd is None else str(cost_usd),
    }
    try:
        await caches[CACHE_ALIAS].aset(KEY_PREFIX + fingerprint, stored, timeout=ttl_seconds)
    except Exception:
        log.warning("LLM cache write failed; the answer was not cached", exc_info=True)


def _from_stored(stored: dict[str, Any]) -> CachedAnswer:
    prompt, completion, total, cache_read, cache_write = stored["usage"]
    metadata: dict[str, Any] = {"cache_hit": True, "usage_source": stored.get("usage_source", "vendor")}
    if stored.get("tool_calls"):
        metadata["tool_calls"] = stored["tool_calls"]
    response = LLMResponse(
        content=stored["content"],
        model=stored["model"],
        usage=LLMUsage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
        ),
        finish_reason=stored["finish_reason"],
        metadata=metadata,
    )
    cost = stored.get("cost_usd")
    cost_usd = None if cost is None else Decimal(cost)
    return CachedAnswer(response=response, call_id=stored.get("call_id"), cost_usd=cost_usd)
