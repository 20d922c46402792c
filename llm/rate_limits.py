"""Per-config rate limits that hold across processes, kept in PostgreSQL.

A sliding one-minute window. Each config's check runs under a transaction-scoped advisory lock, so
every process and thread using the database agrees on who gets the next request:
- requests per minute: a log of request starts (`RateLimitSlot`), taken before the call is made, so
  calls still in flight count;
- tokens per minute: the tokens recorded in the ledger (`LLMCall`) during the last minute; cache
  hits do not count.
A caller over a limit waits for room up to the config's `rate_limit_max_wait_seconds`, then gets
`LLMRateLimitError` with the time it would have had to wait as `retry_after`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.db import connection, transaction

from llm.models import CallStatus, LLMCall, ProviderConfig, RateLimitSlot
from llm.providers import LLMRateLimitError

WINDOW = timedelta(minutes=1)
# First key of pg_advisory_xact_lock(int, int): our namespace; the second is the config id.
_LOCK_NAMESPACE = 0x4C4C4D  # "LLM"


def has_limits(config: ProviderConfig) -> bool:
    return bool(config.requests_per_minute or config.tokens_per_minute)


async def acquire(config: ProviderConfig) -> None:
    """Wait until `config` has room for one more request and take it, or raise LLMRateLimitError."""
    if not has_limits(config):
        return
    deadline = time.monotonic() + config.rate_limit_max_wait_seconds
    while True:
        wait = await sync_to_async(try_acquire)(config)
        if wait is None:
            return
        remaining = deadline - time.monotonic()
        if wait > remaining:
            raise LLMRateLimitError(
                f"Rate limit of provider config {config.name!r} reached "
                f"({_describe(config)}); room again in {wait:.1f} s.",
                retry_after=round(wait, 3),
                provider=config.provider,
            )
        await asyncio.sleep(wait)


def try_acquire(config: ProviderConfig) -> float | None:
    """Take a request slot now (None), or return how many seconds until there is room."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s), clock_timestamp()", [_LOCK_NAMESPACE, config.pk])
        now = cursor.fetchone()[1]
        window_start = now - WINDOW
        waits: list[float] = []
        if config.requests_per_minute:
            RateLimitSlot.objects.filter(config=config, taken_at__lte=window_start).delete()
            starts = list(
                RateLimitSlot.objects.filter(config=config)
                .order_by("-taken_at")
                .values_list("taken_at", flat=True)[: config.requests_per_minute]
            )
            if len(starts) >= config.requests_per_minute:
                # The oldest of the newest `limit` starts must leave the window first.
                waits.append((starts[-1] + WINDOW - now).total_seconds())
        if config.tokens_per_minute:
            recent = (
                LLMCall.objects.filter(config=config, created_at__gt=window_start)
                .exclude(status=CallStatus.CACHED)
                .order_by("created_at")
                .values_list("created_at", "total_tokens")
            )
            used = sum(tokens for _, tokens in recent)
            if used >= config.tokens_per_minute:
                for created_at, tokens in recent:
                    used -= tokens
                    if used < config.tokens_per_minute:
                        waits.append((created_at + WINDOW - now).total_seconds())
                        break
        if waits:
            return max(0.01, max(waits))
        if config.requests_per_minute:
            RateLimitSlot.objects.create(config=config, taken_at=now)
        return None


def _describe(config: ProviderConfig) -> str:
    limits = []
    if config.requests_per_minute:
        limits.append(f"{config.requests_per_minute} requests/min")
    if config.tokens_per_minute:
        limits.append(f"{config.tokens_per_minute} tokens/min")
    return ", ".join(limits)
