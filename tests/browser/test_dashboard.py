"""The dashboard in a real browser: filtering in place, load more, an artifact page, deleting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from artifacts.models import ArtifactRecord
from tests.browser.conftest import screenshot
from tests.factories import store_artifact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PYTHON = '''def fibonacci(n: int) -> int:
    """The n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
'''


@pytest.fixture
def demo() -> dict[str, ArtifactRecord]:
    start = datetime.now(UTC) - timedelta(hours=3)
    records = {}
    for n in range(70):
        agent = ("coder", "tester", "reviewer")[n % 3]
        kind = {"coder": "code", "tester": "test", "reviewer": "review"}[agent]
        records[f"a{n}"] = store_artifact(
            workflow_id=f"wf-{n % 2 + 1}",
            task_id=f"wf-{n % 2 + 1}-task-{n // 10}",
            agent_id=agent,
            artifact_type=kind,
            content=PYTHON if kind != "review" else "# Review\n\nLooks **good**.\n",
            metadata={"language": "python", "title": f"step_{n}.py"} if kind != "review" else {"title": f"review {n}"},
            created_at=start + timedelta(minutes=n),
        )
    return records


def test_filters_update_the_list_in_place_and_the_url(logged_in_page, demo) -> None:
    page = logged_in_page
    page.goto("/artifacts/")
    assert page.locator("table.artifacts tbody tr:not(.load-more)").count() == 50
    page.select_option("#id_agent", "tester")
    page.wait_for_url("**/artifacts/?agent=tester")
    page.fill("#id_workflow", "wf-2")
    page.press("#id_workflow", "Enter")
    page.wait_for_url("**/artifacts/?workflow=wf-2&agent=tester")
    rows = page.locator("table.artifacts tbody tr:not(.load-more)")
    assert rows.count() > 0
    for cell in rows.locator("td[data-label=Agent]").all_inner_texts():
        assert cell == "tester"
    for cell in rows.locator("td[data-label=Workflow]").all_inner_texts():
        assert cell == "wf-2"
    screenshot(page, "artifacts-filtered")
    page.reload()  # a filtered view is a real URL
    assert page.locator("#id_agent").input_value() == "tester"
    assert page.locator("#id_workflow").input_value() == "wf-2"
    assert rows.count() == len([r for r in demo.values() if r.agent_id == "tester" and r.workflow_id == "wf-2"])


def test_load_more_appends_the_next_page(logged_in_page, demo) -> None:
    page = logged_in_page
    page.goto("/artifacts/")
    rows = page.locator("table.artifacts tbody tr:not(.load-more)")
    assert rows.count() == 50
    page.click("text=Load more")
    expect(rows).to_have_count(70)  # a locator wait: the CSP forbids the eval a wait_for_function would need
    assert page.locator("tr.load-more").count() == 0
    assert page.url.endswith("/artifacts/")  # loading more does not change the bookmarkable URL
    ids = rows.locator("td[data-label=Artifact] a").evaluate_all("links => links.map(a => a.href)")
    assert len(set(ids)) == 70
    screenshot(page, "artifacts")


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
def test_an_artifact_page_highlights_copies_and_downloads(logged_in_page, demo) -> None:
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/artifacts/?agent=coder")
    page.click("text=step_0.py")
    page.wait_for_url(f"**/artifacts/{demo['a0'].artifact_id}/")
    assert page.locator(".highlight .k", has_text="def").count() >= 1  # Pygments keyword spans
    assert page.locator("td.linenos").inner_text().split() == ["1", "2", "3", "4", "5", "6"]
    color = page.locator(".highlight .k").first.evaluate("e => getComputedStyle(e).color")
    assert color != "rgb(29, 36, 48)"  # the pygments stylesheet applied, not body text colour
    page.click("button:has-text('Copy')")
    page.wait_for_selector("button:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == PYTHON
    with page.expect_download() as download:
        page.click("text=Download raw")
    assert download.value.path().read_text() == PYTHON
    screenshot(page, "artifact")


def test_staff_delete_an_artifact_after_confirming(logged_in_page, demo) -> None:
    page = logged_in_page
    record = demo["a5"]
    page.goto(f"/artifacts/{record.artifact_id}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Delete…")
    page.wait_for_url(f"**/artifacts/?workflow={record.workflow_id}")
    assert "Deleted artifact" in page.locator(".flash").inner_text()
    assert not ArtifactRecord.objects.filter(pk=record.artifact_id).exists()


def test_workflow_agent_and_task_pages_link_together(logged_in_page, demo) -> None:
    page = logged_in_page
    page.goto("/workflows/")
    screenshot(page, "workflows")
    page.click("text=wf-1")
    page.wait_for_url("**/workflows/wf-1/")
    assert page.locator(".task-group").count() == 7
    screenshot(page, "workflow")
    page.click(".task-group >> nth=0 >> text=wf-1-task-0")
    page.wait_for_url("**/tasks/wf-1-task-0/")
    screenshot(page, "task")
    page.click(".agents-line >> text=coder")
    page.wait_for_url("**/agents/coder/")
    screenshot(page, "agent")
    page.click("nav[aria-label=Main] >> text=Agents")
    page.wait_for_url("**/agents/")
    assert page.locator("tbody tr").count() == 3
    screenshot(page, "agents")
    page.click("nav[aria-label=Main] >> text=Home")
    page.click("text=Last 24h")
    page.wait_for_url("**/?period=24h")
    assert page.locator(".stats dd").first.inner_text() == "70"
    screenshot(page, "home")


@pytest.mark.parametrize("url", ["/", "/artifacts/", "/workflows/wf-1/", "/agents/", "ARTIFACT"])
def test_pages_fit_a_phone(logged_in_page, demo, url: str) -> None:
    page = logged_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/artifacts/{demo['a0'].artifact_id}/" if url == "ARTIFACT" else url)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{url} scrolls sideways by {overflow}px on a phone"
    name = {"/": "home", "/artifacts/": "artifacts", "/workflows/wf-1/": "workflow", "/agents/": "agents"}.get(
        url, "artifact"
    )
    screenshot(page, f"phone-{name}", full_page=False)


def test_the_usage_page_draws_its_chart_and_breakdowns(logged_in_page, demo) -> None:
    from decimal import Decimal

    from tests.factories import make_recent_call

    now = datetime.now(UTC)
    for day in range(12):
        for agent in ("coder", "tester"):
            make_recent_call(
                created_at=now - timedelta(days=day, minutes=5),
                agent_id=agent,
                workflow_id="wf-1",
                provider="openai" if agent == "coder" else "anthropic",
                model="gpt-4o-mini" if agent == "coder" else "claude-haiku",
                total_tokens=1000 + 150 * day,
                cost_usd=Decimal("0.02") * (day + 1),
            )
    make_recent_call(model="mystery-model", cost_usd=None, price_source="unknown")
    page = logged_in_page
    page.goto("/usage/")
    chart = page.locator("#usage-chart svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 800 and box["height"] > 150
    assert page.locator("#usage-chart rect.bar-tokens").count() == 31
    assert page.locator("#usage-chart polyline.line-cost").count() == 1
    assert "unknown price not included" in page.locator(".stats").inner_text()
    screenshot(page, "usage")
    page.select_option("#id_period", "7d")
    page.wait_for_url("**/usage/?period=7d")
    assert page.locator("#usage-chart rect.bar-tokens").count() == 8
    page.click("text=See these calls")
    page.wait_for_url("**/usage/calls/**")
    screenshot(page, "calls")
    page.click("table.calls tbody tr >> nth=0 >> a >> nth=0")
    page.wait_for_url("**/usage/calls/*/")
    assert page.locator("#call-prompt").is_visible()
    screenshot(page, "call")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/usage/")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    screenshot(page, "phone-usage", full_page=False)
