"""Workflows and agents over the API: the dashboard's rollup summaries with the ledger's tokens and cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from llm.models import LLMCall
from tests.factories import store_artifact

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def call(*, workflow_id: str, agent_id: str, tokens: int, cost: str) -> None:
    LLMCall.objects.create(
        created_at=T0,
        provider="mock",
        model="mock-1",
        status="ok",
        prompt_tokens=tokens,
        completion_tokens=tokens,
        total_tokens=2 * tokens,
        cost_usd=Decimal(cost),
        price_source="config",
        workflow_id=workflow_id,
        agent_id=agent_id,
    )


@pytest.fixture
def activity() -> None:
    store_artifact(workflow_id="wf-old", agent_id="coder", task_id="t1", created_at=T0)
    store_artifact(workflow_id="wf-new", agent_id="coder", task_id="t2", created_at=T0 + timedelta(hours=1))
    store_artifact(workflow_id="wf-new", agent_id="tester", task_id="t3", created_at=T0 + timedelta(hours=2))
    call(workflow_id="wf-new", agent_id="coder", tokens=100, cost="0.25")
    call(workflow_id="wf-new", agent_id="tester", tokens=10, cost="0.05")


def test_workflows_list_counts_agents_tokens_and_cost(api, activity) -> None:
    body = api.get("/api/workflows").json()
    assert [w["workflow_id"] for w in body["items"]] == ["wf-new", "wf-old"]
    new = body["items"][0]
    assert (new["artifact_count"], new["agent_count"], new["task_count"]) == (2, 2, 2)
    assert sorted(new["agent_ids"]) == ["coder", "tester"]
    assert new["usage"]["calls"] == 2 and new["usage"]["total_tokens"] == 220
    assert Decimal(new["usage"]["cost_usd"]) == Decimal("0.30")
    assert body["items"][1]["usage"]["calls"] == 0


def test_workflows_filter_by_agent_and_id_and_page(api, activity) -> None:
    assert [w["workflow_id"] for w in api.get("/api/workflows", params={"agent_id": "tester"}).json()["items"]] == [
        "wf-new"
    ]
    assert [w["workflow_id"] for w in api.get("/api/workflows", params={"q": "old"}).json()["items"]] == ["wf-old"]
    first = api.get("/api/workflows", params={"limit": 1}).json()
    second = api.get("/api/workflows", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [first["items"][0]["workflow_id"], second["items"][0]["workflow_id"]] == ["wf-new", "wf-old"]
    assert second["next_cursor"] is None


def test_one_workflow_and_a_missing_one(api, activity) -> None:
    assert api.get("/api/workflows/wf-new").json()["usage"]["calls"] == 2
    assert api.get("/api/workflows/wf-none").status_code == 404


def test_agents_list_and_one_agent(api, activity) -> None:
    body = api.get("/api/agents").json()
    assert [a["agent_id"] for a in body["items"]] == ["tester", "coder"]
    coder = api.get("/api/agents/coder").json()
    assert (coder["artifact_count"], coder["workflow_count"]) == (2, 2)
    assert coder["usage"]["total_tokens"] == 200 and Decimal(coder["usage"]["cost_usd"]) == Decimal("0.25")
    assert api.get("/api/agents/nobody").status_code == 404


@pytest.mark.parametrize("path", ["/api/workflows?cursor=nope", "/api/agents?limit=0", "/api/workflows?q=a%00"])
def test_bad_parameters_are_422s(api, path: str) -> None:
    assert api.get(path).status_code == 422
