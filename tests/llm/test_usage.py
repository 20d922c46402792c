"""Usage queries: the rollup and the edge hours add up to exactly what the raw calls say."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum

from llm.models import LLMCall, LLMUsageHourly
from llm.usage import (
    CallFilters,
    InvalidUsageQuery,
    UsageTotals,
    call_page,
    rebuild_usage_rollup,
    usage_by_agent,
    usage_by_config,
    usage_by_day,
    usage_by_model,
    usage_by_provider,
    usage_by_workflow,
    usage_for_agents,
    usage_for_workflows,
    usage_grouped,
    usage_series,
    usage_totals,
)
from tests.factories import make_llm_call

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def calls() -> list[LLMCall]:
    """Sixty calls over three days: several agents, workflows, models; some errors, cache hits, unknown prices."""
    rng = random.Random(3)
    made = []
    for n in range(60):
        status = ["ok", "ok", "ok", "error", "cached", "cancelled"][n % 6]
        made.append(
            make_llm_call(
                created_at=T0 + timedelta(minutes=rng.randint(0, 3 * 24 * 60 - 1), seconds=rng.randint(0, 59)),
                config_name=["fast", "smart"][n % 2],
                provider=["openai", "anthropic"][n % 2],
                model=["gpt-4o-mini", "claude-sonnet-4-5", "gpt-4o"][n % 3],
                agent_id=["coder", "tester", "reviewer", ""][n % 4],
                workflow_id=f"wf-{n % 5}",
                status=status,
                prompt_tokens=100 + n,
                completion_tokens=10 * n,
                total_tokens=100 + 11 * n,
                cache_read_tokens=n,
                cost_usd=None if n % 7 == 0 else Decimal(0) if status == "cached" else Decimal(n) / 1000,
                saved_usd=Decimal("0.5") if status == "cached" else None,
            )
        )
    return made


def expected(where: Q | None = None) -> UsageTotals:
    """The same totals straight from the raw calls."""
    not_cached = ~Q(status="cached")
    rows = LLMCall.objects.filter(where or Q())
    found = rows.aggregate(
        calls=Count("id"),
        error_calls=Count("id", filter=Q(status="error")),
        cached_calls=Count("id", filter=Q(status="cached")),
        unknown_cost_calls=Count("id", filter=not_cached & Q(cost_usd__isnull=True)),
        prompt_tokens=Sum("prompt_tokens", filter=not_cached),
        completion_tokens=Sum("completion_tokens", filter=not_cached),
        total_tokens=Sum("total_tokens", filter=not_cached),
        cache_read_tokens=Sum("cache_read_tokens", filter=not_cached),
        cost_usd=Sum("cost_usd", filter=not_cached),
        saved_usd=Sum("saved_usd", filter=Q(status="cached")),
    )
    first = rows.order_by("created_at").first()
    last = rows.order_by("-created_at").first()
    return UsageTotals(
        **{k: v or 0 for k, v in found.items()},
        first_call_at=first.created_at if first else None,
        last_call_at=last.created_at if last else None,
    )


def test_totals_match_the_raw_calls(calls) -> None:
    assert usage_totals() == expected()
    assert usage_totals().calls == 60


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (T0 + timedelta(hours=5, minutes=17), T0 + timedelta(days=2, hours=3, minutes=41)),  # partial hours both ends
        (T0 + timedelta(hours=5), T0 + timedelta(days=2)),  # whole hours only
        (T0 + timedelta(hours=7, minutes=10), T0 + timedelta(hours=7, minutes=50)),  # inside one hour
        (T0 + timedelta(hours=7, minutes=50), T0 + timedelta(hours=8, minutes=10)),  # across one boundary
        (T0 + timedelta(days=1, minutes=1), None),
        (None, T0 + timedelta(days=1, minutes=59)),
    ],
)
def test_a_time_range_counts_exactly_the_calls_inside_it(calls, since, until) -> None:
    where = Q()
    if since:
        where &= Q(created_at__gte=since)
    if until:
        where &= Q(created_at__lt=until)
    assert usage_totals(since=since, until=until) == expected(where)


@pytest.mark.parametrize(
    ("query", "column"),
    [
        (usage_by_provider, "provider"),
        (usage_by_model, "model"),
        (usage_by_agent, "agent_id"),
        (usage_by_workflow, "workflow_id"),
        (usage_by_config, "config_name"),
    ],
)
def test_each_grouping_matches_the_raw_calls(calls, query, column) -> None:
    since, until = T0 + timedelta(hours=3, minutes=30), T0 + timedelta(days=2, hours=20, minutes=5)
    rows = query(since=since, until=until, workflow_id=None)
    in_range = Q(created_at__gte=since, created_at__lt=until)
    assert {row.key for row in rows} == set(LLMCall.objects.filter(in_range).values_list(column, flat=True))
    for row in rows:
        assert UsageTotals(**{f: getattr(row, f) for f in UsageTotals.__dataclass_fields__}) == expected(
            in_range & Q(**{column: row.key})
        )
    costs = [row.cost_usd for row in rows]
    assert costs == sorted(costs, reverse=True)


def test_filters_narrow_every_query(calls) -> None:
    assert usage_totals(agent_id="coder") == expected(Q(agent_id="coder"))
    assert usage_totals(agent_id="") == expected(Q(agent_id=""))  # calls nobody claimed
    assert usage_totals(workflow_id="wf-2", config="smart") == expected(Q(workflow_id="wf-2", config_name="smart"))
    assert usage_totals(provider="openai", model="gpt-4o") == expected(Q(provider="openai", model="gpt-4o"))
    rows = usage_by_model(agent_id="tester", since=T0 + timedelta(minutes=90))
    assert {r.key: r.calls for r in rows} == {
        m: expected(Q(agent_id="tester", model=m, created_at__gte=T0 + timedelta(minutes=90))).calls
        for m in {r.key for r in rows}
    }


def test_by_day_is_in_date_order_and_a_limit_keeps_the_most_expensive(calls) -> None:
    days = usage_by_day()
    assert [d.key for d in days] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert sum(d.calls for d in days) == 60
    top = usage_by_workflow(limit=2)
    assert top == usage_by_workflow()[:2]


def test_a_series_has_a_point_per_bucket_with_zeros_in_the_gaps(calls) -> None:
    points = usage_series(since=T0 - timedelta(days=1), until=T0 + timedelta(days=4), bucket="day")
    assert [p.bucket.day for p in points] == [28, 1, 2, 3, 4]
    assert points[0].calls == points[4].calls == 0
    assert [p.calls for p in points[1:4]] == [d.calls for d in usage_by_day()]
    hours = usage_series(since=T0, until=T0 + timedelta(days=3), bucket="hour", agent_id="coder")
    assert len(hours) == 72 and sum(p.calls for p in hours) == expected(Q(agent_id="coder")).calls
    assert hours[5].bucket == T0 + timedelta(hours=5)


def test_summaries_for_a_page_of_workflows_and_agents(calls) -> None:
    found = usage_for_workflows(workflow_ids=["wf-1", "wf-3", "wf-none"])
    assert set(found) == {"wf-1", "wf-3"}
    assert found["wf-1"] == expected(Q(workflow_id="wf-1"))
    agents = usage_for_agents(agent_ids=["coder", "tester"], workflow_id="wf-2")
    assert agents["coder"] == expected(Q(agent_id="coder", workflow_id="wf-2"))
    assert usage_for_workflows(workflow_ids=[]) == {}


def test_an_empty_ledger_answers_zeros() -> None:
    assert usage_totals() == UsageTotals()
    assert usage_by_agent() == []
    assert all(p.calls == 0 for p in usage_series(since=T0, until=T0 + timedelta(days=2)))


def test_updates_and_deletes_keep_the_rollup_exact(calls) -> None:
    moved = calls[10]
    moved.created_at = T0 + timedelta(days=5)
    moved.agent_id = "late-agent"
    moved.save()
    LLMCall.objects.filter(pk__in=[c.pk for c in calls[20:30]]).delete()
    assert usage_totals() == expected()
    assert usage_by_agent(agent_id="late-agent")[0].calls == 1
    assert usage_totals(until=T0 + timedelta(days=4)) == expected(Q(created_at__lt=T0 + timedelta(days=4)))


def test_a_rebuild_repairs_a_rollup_that_drifted(calls) -> None:
    LLMUsageHourly.objects.filter(pk__in=LLMUsageHourly.objects.values("pk")[:5]).update(total_tokens=0, calls=9)
    LLMUsageHourly.objects.filter(pk__in=LLMUsageHourly.objects.values("pk")[5:8]).delete()
    assert usage_totals() != expected()
    assert rebuild_usage_rollup() == LLMUsageHourly.objects.count()
    assert usage_totals() == expected()


def test_bad_arguments_say_what_is_allowed() -> None:
    with pytest.raises(InvalidUsageQuery, match="group_by must be one of"):
        usage_grouped(group_by="colour")
    with pytest.raises(InvalidUsageQuery, match="timezone-aware"):
        usage_totals(since=datetime(2026, 1, 1))
    with pytest.raises(InvalidUsageQuery, match="since must not be after until"):
        usage_totals(since=T0, until=T0 - timedelta(days=1))
    with pytest.raises(InvalidUsageQuery, match="use a larger bucket"):
        usage_series(since=T0 - timedelta(days=3650), until=T0, bucket="hour")
    with pytest.raises(InvalidUsageQuery, match="status must be one of"):
        CallFilters(status="exploded")
    with pytest.raises(InvalidUsageQuery, match="cursor is not valid"):
        call_page(filters=CallFilters(), cursor="garbage")


def test_the_call_list_pages_by_keyset_newest_first(calls) -> None:
    seen, cursor = [], None
    while True:
        page = call_page(filters=CallFilters(workflow_id="wf-1"), limit=4, cursor=cursor)
        seen += page.rows
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [c.pk for c in seen] == list(
        LLMCall.objects.filter(workflow_id="wf-1").order_by("-created_at", "-id").values_list("pk", flat=True)
    )
    errors = call_page(filters=CallFilters(status="error", since=T0 + timedelta(days=1)), limit=100).rows
    assert errors and all(c.status == "error" and c.created_at >= T0 + timedelta(days=1) for c in errors)


def test_the_call_list_does_not_load_texts_unless_asked(calls, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        rows = call_page(filters=CallFilters(), limit=10).rows
        assert all(r.total_tokens >= 0 for r in rows)
    assert "prompt" in rows[0].get_deferred_fields()
    assert call_page(filters=CallFilters(), limit=1, with_text=True).rows[0].get_deferred_fields() == set()
