"""The Usage page, the call list and a call's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.factories import make_recent_call, store_artifact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/usage/", "/usage/calls/", "/usage/calls/1/"])
def test_usage_pages_need_login(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_with_no_calls_the_pages_say_how_calls_get_recorded(viewer_client) -> None:
    assert b"provider_for(name)" in viewer_client.get("/usage/").content
    assert b"No LLM calls recorded yet" in viewer_client.get("/usage/calls/").content


def test_usage_shows_totals_a_chart_and_breakdowns(viewer_client) -> None:
    make_recent_call(provider="openai", model="gpt-x", agent_id="coder", workflow_id="wf-1", cost_usd=Decimal("0.5"))
    make_recent_call(
        provider="anthropic", model="claude-y", agent_id="tester", workflow_id="wf-2", cost_usd=Decimal("1.25")
    )
    response = viewer_client.get("/usage/")
    assert response.context["totals"].calls == 2
    assert response.context["totals"].cost_usd == Decimal("1.75")
    html = response.content.decode()
    assert '<figure class="chart" id="usage-chart">' in html and "<svg" in html
    assert html.count('class="bar-tokens"') == 31  # 30 days, the current one partial
    breakdowns = {key: [row.key for row in rows] for key, _, rows in response.context["breakdowns"]}
    assert breakdowns == {
        "provider": ["anthropic", "openai"],
        "model": ["claude-y", "gpt-x"],
        "agent": ["tester", "coder"],
        "workflow": ["wf-2", "wf-1"],
    }
    assert 'href="/agents/coder/"' in html and 'href="/workflows/wf-2/"' in html


def test_calls_with_unknown_price_are_flagged_not_counted_as_free(viewer_client) -> None:
    make_recent_call(cost_usd=Decimal("0.25"))
    make_recent_call(model="brand-new", cost_usd=None, price_source="unknown")
    html = viewer_client.get("/usage/").content.decode()
    assert "1 call with unknown price not included" in html
    assert "+1 unpriced" in html
    calls = viewer_client.get("/usage/calls/").content.decode()
    assert calls.count('<span class="flag">unknown price</span>') == 1


def test_the_last_24_hours_are_charted_by_hour(viewer_client) -> None:
    make_recent_call()
    response = viewer_client.get("/usage/?period=24h")
    assert "per hour" in response.content.decode()
    assert len(response.context["chart"].bars) in (24, 25)


def test_usage_filters_by_agent_and_swaps_in_place(viewer_client) -> None:
    make_recent_call(agent_id="coder", total_tokens=100)
    make_recent_call(agent_id="tester", total_tokens=7)
    response = viewer_client.get("/usage/?period=7d&agent=tester&workflow=", headers={"HX-Request": "true"})
    assert response.context["totals"].total_tokens == 7
    assert response.content.lstrip().startswith(b'<div id="results">')
    assert response["HX-Push-Url"] == "/usage/?period=7d&agent=tester"


def test_the_call_list_filters_and_loads_more(viewer_client) -> None:
    for _ in range(55):
        make_recent_call(status="ok")
    failed = make_recent_call(status="error", error_class="RateLimitError", error_message="slow down", cost_usd=None)
    only_errors = viewer_client.get("/usage/calls/?status=error")
    assert [c.pk for c in only_errors.context["calls"]] == [failed.pk]
    first = viewer_client.get("/usage/calls/")
    assert len(first.context["calls"]) == 50
    more = viewer_client.get(first.context["next_url"], headers={"HX-Request": "true"})
    assert len(more.context["calls"]) == 6
    assert b"<table" not in more.content


def test_the_call_list_answers_in_a_fixed_number_of_queries(viewer_client, django_assert_num_queries) -> None:
    for _ in range(20):
        make_recent_call()
    with django_assert_num_queries(3):  # session, user, the page
        viewer_client.get("/usage/calls/")


def test_bad_call_filters_show_an_error(viewer_client) -> None:
    response = viewer_client.get("/usage/calls/?status=exploded&since=soon")
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_a_call_page_shows_prompt_response_tokens_cost_and_latency(viewer_client) -> None:
    call = make_recent_call(
        system="You are terse.",
        prompt="Say <b>hi</b>",
        response="hi & bye",
        prompt_tokens=12,
        completion_tokens=3,
        total_tokens=15,
        cost_usd=Decimal("0.000123"),
        latency_ms=1500,
        streamed=True,
        time_to_first_token_ms=200,
    )
    html = viewer_client.get(f"/usage/calls/{call.pk}/").content.decode()
    assert "You are terse." in html
    assert "Say &lt;b&gt;hi&lt;/b&gt;" in html
    assert "hi &amp; bye" in html
    assert "12 in + 3 out = 15" in html
    assert "$0.000123" in html
    assert "1.50 s" in html and "first token 200 ms" in html
    assert viewer_client.get("/usage/calls/999999/").status_code == 404


def test_a_failed_call_shows_its_error(viewer_client) -> None:
    call = make_recent_call(status="error", error_class="APITimeoutError", error_message="timed out", cost_usd=None)
    assert b"APITimeoutError: timed out" in viewer_client.get(f"/usage/calls/{call.pk}/").content


def test_workflow_agent_task_and_home_pages_show_tokens_and_cost(viewer_client) -> None:
    store_artifact(workflow_id="wf-1", task_id="task-1", agent_id="coder")
    make_recent_call(workflow_id="wf-1", task_id="task-1", agent_id="coder", total_tokens=1234, cost_usd=Decimal("2.5"))
    make_recent_call(
        status="error", error_class="Boom", cost_usd=None, total_tokens=0, workflow_id="wf-1", agent_id="coder"
    )
    for url in ("/workflows/", "/workflows/wf-1/", "/agents/", "/agents/coder/"):
        html = viewer_client.get(url).content.decode()
        assert "1,234" in html and "$2.50" in html, url
    assert b"/usage/calls/" in viewer_client.get("/tasks/task-1/").content
    home = viewer_client.get("/?period=24h")
    assert home.context["usage"].calls == 2
    assert len(home.context["failed_calls"]) == 1


def test_a_workflow_page_with_calls_stays_at_a_fixed_number_of_queries(viewer_client, django_assert_num_queries):
    store_artifact(workflow_id="wf-1", agent_id="coder")
    for n in range(15):
        make_recent_call(
            workflow_id="wf-1", agent_id=f"agent-{n % 3}", created_at=datetime.now(UTC) - timedelta(hours=n)
        )
    with django_assert_num_queries(10):
        viewer_client.get("/workflows/wf-1/")
