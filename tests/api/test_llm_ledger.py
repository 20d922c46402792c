"""Provider configs, recorded calls and usage over HTTP against uvicorn: bodies, filters, paging, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from llm.models import ProviderConfig
from tests.factories import make_llm_call, make_provider_config

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_migration_rows() -> None:
    ProviderConfig.objects.all().delete()


@pytest.fixture
def calls() -> dict[str, int]:
    """Four calls an hour apart: two by the coder (one failed), a tester's, and an unattributed cache hit."""
    made = {
        "coder": make_llm_call(created_at=T0, agent_id="coder", workflow_id="wf-a", task_id="t-1", cost_usd="0.25"),
        "failed": make_llm_call(
            created_at=T0 + timedelta(hours=1),
            agent_id="coder",
            workflow_id="wf-a",
            status="error",
            error_class="LLMTimeoutError",
            error_message="timed out",
            response="",
            cost_usd="0.05",
        ),
        "tester": make_llm_call(
            created_at=T0 + timedelta(hours=2),
            agent_id="tester",
            workflow_id="wf-b",
            provider="openai",
            model="gpt-4o",
            config_name="gpt",
            cost_usd=None,
        ),
        "cached": make_llm_call(
            created_at=T0 + timedelta(hours=3),
            agent_id="",
            workflow_id="",
            status="cached",
            cost_usd="0",
            saved_usd="0.25",
        ),
    }
    return {name: call.pk for name, call in made.items()}


# Provider configs


def test_providers_lists_every_config_with_limits_and_prices(api) -> None:
    make_provider_config(
        name="gpt",
        provider="openai",
        model="gpt-4o",
        requests_per_minute=60,
        input_price_per_million=Decimal("2.500000"),
        output_price_per_million=10,
        cache_enabled=True,
    )
    make_provider_config(name="off", enabled=False)
    body = api.get("/api/llm/providers").json()
    assert [c["name"] for c in body["items"]] == ["gpt", "off"]
    gpt = body["items"][0]
    assert (gpt["provider"], gpt["model"], gpt["enabled"], gpt["cache_enabled"]) == ("openai", "gpt-4o", True, True)
    assert (gpt["requests_per_minute"], gpt["tokens_per_minute"]) == (60, None)
    assert gpt["prices"] == {
        "input_per_million": "2.5",
        "output_per_million": "10",
        "cache_read_per_million": None,
        "cache_write_per_million": None,
    }
    assert not {"base_url", "api_key", "api_key_env", "api_key_hint", "key_source", "options"} & set(gpt)
    assert body["items"][1]["enabled"] is False


# Calls


def test_calls_lists_newest_first_without_the_texts(api, calls) -> None:
    body = api.get("/api/llm/calls").json()
    assert [c["id"] for c in body["items"]] == [calls["cached"], calls["tester"], calls["failed"], calls["coder"]]
    assert body["next_cursor"] is None
    coder = body["items"][-1]
    assert (coder["config"], coder["agent_id"], coder["workflow_id"], coder["task_id"]) == (
        "mock",
        "coder",
        "wf-a",
        "t-1",
    )
    assert (
        coder["cost_usd"] == "0.25" and coder["total_tokens"] == 150 and coder["created_at"] == "2026-03-01T00:00:00Z"
    )
    assert body["items"][1]["cost_usd"] is None
    assert not {"prompt", "system", "response", "error_message"} & set(coder)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"agent_id": "coder"}, ["failed", "coder"]),
        ({"workflow_id": "wf-b"}, ["tester"]),
        ({"task_id": "t-1"}, ["coder"]),
        ({"config": "gpt"}, ["tester"]),
        ({"provider": "openai"}, ["tester"]),
        ({"model": "gpt-4o"}, ["tester"]),
        ({"status": "error"}, ["failed"]),
        ({"status": "cached"}, ["cached"]),
        ({"since": "2026-03-01T01:00:00Z", "until": "2026-03-01T03:00:00+00:00"}, ["tester", "failed"]),
        ({"agent_id": "coder", "status": "ok"}, ["coder"]),
    ],
)
def test_calls_filter(api, calls, params, expected) -> None:
    body = api.get("/api/llm/calls", params=params).json()
    assert [c["id"] for c in body["items"]] == [calls[name] for name in expected]


def test_calls_page_by_cursor_without_skipping_or_repeating_while_calls_arrive(api) -> None:
    first = [make_llm_call(created_at=T0 + timedelta(seconds=n % 4)).pk for n in range(9)]  # ties on created_at
    seen: list[int] = []
    params: dict = {"limit": 2}
    for n in range(20):
        body = api.get("/api/llm/calls", params=params).json()
        seen += [c["id"] for c in body["items"]]
        make_llm_call(created_at=T0 + timedelta(hours=1, seconds=n))  # newer calls arrive between pages
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in set(first)] == sorted(
        first, key=lambda pk: ((T0 + timedelta(seconds=first.index(pk) % 4)), pk), reverse=True
    )


def test_one_call_has_its_prompts_response_and_error(api, calls) -> None:
    call = make_llm_call(system="Be brief", prompt="Say hi", response="Hi", request_params={"temperature": 0.2})
    body = api.get(f"/api/llm/calls/{call.pk}").json()
    assert (body["system"], body["prompt"], body["response"]) == ("Be brief", "Say hi", "Hi")
    assert body["request_params"] == {"temperature": 0.2} and body["cached_from_id"] is None
    failed = api.get(f"/api/llm/calls/{calls['failed']}").json()
    assert (failed["status"], failed["error_class"], failed["error_message"]) == (
        "error",
        "LLMTimeoutError",
        "timed out",
    )


@pytest.mark.parametrize(("path", "status"), [("/api/llm/calls/999999", 404), ("/api/llm/calls/x", 422)])
def test_an_unknown_or_malformed_call_id(api, path: str, status: int) -> None:
    response = api.get(path)
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": 501}, "less than or equal to 500"),
        ({"limit": 0}, "greater than or equal to 1"),
        ({"cursor": "garbage"}, "cursor is not valid"),
        ({"status": "lost"}, "'ok', 'error', 'cached' or 'cancelled'"),
        ({"since": "2026-01-01T00:00:00"}, "timezone"),
        ({"since": "0001-01-01T00:00:00+05:00"}, "from the year 1970"),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "since must not be after until"),
        ({"agent_id": "a\x00"}, "NUL"),
    ],
)
def test_calls_with_bad_parameters_are_a_422_with_a_message(api, params, words) -> None:
    response = api.get("/api/llm/calls", params=params)
    assert response.status_code == 422
    assert words in str(response.json()["detail"])


# Usage


def test_usage_totals_count_calls_tokens_and_cost(api, calls) -> None:
    body = api.get("/api/usage").json()
    assert (body["calls"], body["error_calls"], body["cached_calls"], body["unknown_cost_calls"]) == (4, 1, 1, 1)
    assert body["total_tokens"] == 450  # the cache hit consumed nothing
    assert (body["cost_usd"], body["saved_usd"], body["cost_complete"]) == ("0.3", "0.25", False)
    assert body["first_call_at"] == "2026-03-01T00:00:00Z" and body["last_call_at"] == "2026-03-01T03:00:00Z"


def test_usage_totals_filter(api, calls) -> None:
    assert api.get("/api/usage", params={"agent_id": "coder"}).json()["calls"] == 2
    assert api.get("/api/usage", params={"workflow_id": "wf-b", "config": "gpt"}).json()["calls"] == 1
    ranged = api.get("/api/usage", params={"since": "2026-03-01T00:30:00Z", "until": "2026-03-01T02:00:00Z"}).json()
    assert ranged["calls"] == 1 and ranged["cost_usd"] == "0.05"
    nothing = api.get("/api/usage", params={"agent_id": "nobody"}).json()
    assert (nothing["calls"], nothing["cost_usd"], nothing["first_call_at"]) == (0, "0", None)


@pytest.mark.parametrize(
    ("group_by", "keys"),
    [
        ("agent", ["coder", "tester", ""]),
        ("workflow", ["wf-a", "wf-b", ""]),
        ("provider", ["mock", "openai"]),
        ("model", ["mock-model", "gpt-4o"]),
        ("config", ["mock", "gpt"]),
        ("day", ["2026-03-01"]),
    ],
)
def test_usage_grouped(api, calls, group_by: str, keys: list[str]) -> None:
    body = api.get("/api/usage/grouped", params={"group_by": group_by}).json()
    assert body["group_by"] == group_by
    assert [row["key"] for row in body["rows"]] == keys


def test_usage_grouped_by_agent_adds_up(api, calls) -> None:
    rows = api.get("/api/usage/grouped", params={"group_by": "agent", "limit": 1}).json()["rows"]
    assert [(r["key"], r["calls"], r["cost_usd"]) for r in rows] == [("coder", 2, "0.3")]


def test_usage_series_has_a_point_per_bucket_gaps_included(api, calls) -> None:
    params = {"bucket": "hour", "since": "2026-03-01T00:00:00Z", "until": "2026-03-01T05:00:00Z", "agent_id": "coder"}
    body = api.get("/api/usage/series", params=params).json()
    assert body["bucket"] == "hour"
    assert [(p["bucket"][11:16], p["calls"]) for p in body["points"]] == [
        ("00:00", 1),
        ("01:00", 1),
        ("02:00", 0),
        ("03:00", 0),
        ("04:00", 0),
    ]


def test_usage_series_defaults_to_the_last_30_days(api) -> None:
    body = api.get("/api/usage/series").json()
    assert body["bucket"] == "day" and len(body["points"]) in (30, 31)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/api/usage/grouped?group_by=colour", "'provider', 'model', 'agent', 'workflow', 'config' or 'day'"),
        ("/api/usage/grouped", "Field required"),
        ("/api/usage/series?bucket=hour&since=2020-01-01T00:00:00Z", "more than 5000 hours"),
        ("/api/usage/series?bucket=week", "'hour' or 'day'"),
        ("/api/usage?since=2026-01-01", "timezone"),
        ("/api/usage?until=9999-12-31T23:59:59-12:00", "up to 9000"),
        ("/api/usage/series?since=0100-01-01T00:00:00Z", "from the year 1970"),
        ("/api/usage?workflow_id=a%00", "NUL"),
    ],
)
def test_usage_with_bad_parameters_is_a_422_with_a_message(api, path: str, words: str) -> None:
    response = api.get(path)
    assert response.status_code == 422
    assert words in str(response.json()["detail"])
