"""Test data factories: artifacts and users without hand-built rows in every test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from artifacts.store import Artifact

_sequence = itertools.count()
_BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def make_artifact(**overrides: Any) -> Artifact:
    """An artifact with distinct, increasing created_at unless given."""
    n = next(_sequence)
    fields: dict[str, Any] = {
        "workflow_id": "wf-1",
        "task_id": f"task-{n}",
        "agent_id": "coder",
        "artifact_type": "code",
        "content": f"print({n})\n",
        "metadata": {"language": "python"},
        "created_at": _BASE_TIME + timedelta(seconds=n),
    }
    fields.update(overrides)
    return Artifact(**fields)


def store_artifact(**overrides: Any):
    """An artifact saved straight to the database (the rollup triggers see it like any other write)."""
    from artifacts.models import ArtifactRecord

    record = ArtifactRecord.from_artifact(make_artifact(**overrides))
    record.save(force_insert=True)
    return record


def make_provider_config(**overrides: Any):
    """A saved ProviderConfig on the mock provider, free unless prices are given."""
    from llm.models import ProviderConfig

    n = next(_sequence)
    fields: dict[str, Any] = {"name": f"config-{n}", "provider": "mock", "model": "mock-model"}
    fields.update(overrides)
    return ProviderConfig.objects.create(**fields)


def make_llm_call(**overrides: Any):
    """A saved LLMCall (through the ORM, so the rollup trigger runs), ok and priced unless told."""
    from decimal import Decimal

    from llm.models import LLMCall

    n = next(_sequence)
    fields: dict[str, Any] = {
        "created_at": _BASE_TIME + timedelta(minutes=n),
        "config_name": "mock",
        "provider": "mock",
        "model": "mock-model",
        "prompt": f"prompt {n}",
        "response": f"response {n}",
        "finish_reason": "stop",
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "cost_usd": Decimal("0.001"),
        "price_source": "config",
        "status": "ok",
        "agent_id": "coder",
        "workflow_id": "wf-1",
        "task_id": f"task-{n}",
    }
    fields.update(overrides)
    return LLMCall.objects.create(**fields)


def make_recent_call(**overrides: Any):
    """A saved LLMCall from the last ten hours, for pages that show a recent period."""
    n = next(_sequence)
    fields: dict[str, Any] = {
        "created_at": datetime.now(UTC) - timedelta(minutes=n % 600),
        "latency_ms": 420,
        "task_id": "task-1",
    }
    fields.update(overrides)
    return make_llm_call(**fields)
