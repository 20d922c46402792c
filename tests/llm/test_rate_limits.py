"""Per-config rate limits, held in PostgreSQL so they bind every process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from llm.configured import aprovider_for
from llm.models import LLMCall, RateLimitSlot
from llm.providers import LLMRateLimitError
from tests.factories import make_llm_call, make_provider_config

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = Path(__file__).with_name("rate_limit_worker.py")


async def limited_provider(**limits):
    config = await sync_to_async(make_provider_config)(**limits)
    return await aprovider_for(config.name)


async def test_a_caller_over_the_request_limit_gets_the_rate_limit_error() -> None:
    provider = await limited_provider(requests_per_minute=2, rate_limit_max_wait_seconds=0)
    await provider.generate("one")
    await provider.generate("two")
    with pytest.raises(LLMRateLimitError, match="2 requests/min") as raised:
        await provider.generate("three")
    assert 55 < raised.value.retry_after <= 60
    assert len(provider.wrapped.call_history) == 2  # the third never reached the provider
    refused = await LLMCall.objects.aget(prompt="three")
    assert (refused.status, refused.error_class, refused.total_tokens) == ("error", "LLMRateLimitError", 0)


async def test_a_caller_waits_for_room_within_the_bound() -> None:
    provider = await limited_provider(requests_per_minute=1, rate_limit_max_wait_seconds=5)
    config = provider.provider_config
    await RateLimitSlot.objects.acreate(config=config, taken_at=timezone.now() - timedelta(seconds=59.3))
    started = time.monotonic()
    response = await provider.generate("patient")
    waited = time.monotonic() - started
    assert response.metadata["ledger"]["status"] == "ok"
    assert 0.4 < waited < 3
    # The expired start was swept away; only the new one is left in the window.
    assert await RateLimitSlot.objects.filter(config=config).acount() == 1


async def test_tokens_per_minute_count_recorded_usage_but_not_cache_hits() -> None:
    provider = await limited_provider(tokens_per_minute=1000, rate_limit_max_wait_seconds=0)
    config = provider.provider_config
    recent = timezone.now() - timedelta(seconds=20)
    await sync_to_async(make_llm_call)(config=config, created_at=recent, status="cached", total_tokens=5000)
    await provider.generate("fits: cache hits spent no vendor tokens")
    await sync_to_async(make_llm_call)(config=config, created_at=recent, total_tokens=1200)
    with pytest.raises(LLMRateLimitError, match="1000 tokens/min") as raised:
        await provider.generate("too much")
    assert 35 < raised.value.retry_after <= 40  # when the 1,200-token call leaves the window


async def test_without_limits_nothing_is_counted() -> None:
    provider = await limited_provider()
    for n in range(3):
        await provider.generate(f"call {n}")
    assert await RateLimitSlot.objects.acount() == 0


def test_the_limit_holds_across_processes(transactional_db) -> None:
    config = make_provider_config(requests_per_minute=4, rate_limit_max_wait_seconds=0.5)
    start_at = time.time() + 5
    database = connection.settings_dict["NAME"]
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), database, config.name, "4", str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    # Eight calls at once from two processes against a limit of four: four get through in all.
    # A per-process counter would have let all eight through.
    assert sum(r["ok"] for r in results) == 4
    assert sum(r["limited"] for r in results) == 4
    assert LLMCall.objects.filter(config=config, status="ok").count() == 4
    assert LLMCall.objects.filter(config=config, error_class="LLMRateLimitError").count() == 4
    agents = set(LLMCall.objects.filter(config=config).values_list("agent_id", flat=True))
    assert len(agents) == 2  # both processes really called
