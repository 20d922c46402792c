"""Artifact content, metadata and ids are untrusted: every page that shows them renders them as text.

The payloads try three ways in: a script element, an event-handler attribute, and htmx attributes
(which would make htmx fetch a URL on load). The test proves none ran: a flag stays unset, no
dialog opened, no request reached the probe URL, and the payload text is visible as text.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from artifacts.models import ArtifactRecord
from tests.browser.conftest import screenshot
from tests.factories import store_artifact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROBE = "/xss-probe/"
SCRIPT = "<script>window.__xss = 'script'; alert('script')</script>"
IMG = "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">"
HTMX = f'<div hx-get="{PROBE}" hx-trigger="load" hx-swap="outerHTML">htmx</div>'
ATTRIBUTE_BREAKOUT = f'" autofocus onfocus="window.__xss=\'attr\'" hx-get="{PROBE}" hx-trigger="load" x="'


@pytest.fixture
def hostile() -> ArtifactRecord:
    return store_artifact(
        workflow_id=f"wf{ATTRIBUTE_BREAKOUT}",
        task_id=f"task<b>{IMG}",
        agent_id=f"agent{IMG}",
        artifact_type="code",
        content=f"{SCRIPT}\n{IMG}\n{HTMX}\n{ATTRIBUTE_BREAKOUT}\n",
        metadata={
            "title": f"title{IMG}",
            "language": SCRIPT,
            "note": HTMX,
            f"key{IMG}": [SCRIPT, {"nested": ATTRIBUTE_BREAKOUT}],
        },
    )


@pytest.fixture
def hostile_call(hostile):
    from tests.factories import make_recent_call

    return make_recent_call(
        status="error",
        cost_usd=None,
        workflow_id=hostile.workflow_id,
        task_id=hostile.task_id,
        agent_id=hostile.agent_id,
        provider=f"prov{IMG}",
        model=f"model{HTMX}",
        system=SCRIPT,
        prompt=f"{IMG}{HTMX}",
        response=f"{SCRIPT}{ATTRIBUTE_BREAKOUT}",
        error_class=f"Err{IMG}",
        error_message=HTMX,
        request_params={"x": SCRIPT},
    )


def pages_showing(record: ArtifactRecord) -> list[str]:
    from urllib.parse import urlencode

    from django.urls import reverse

    return [
        "/?period=all",
        reverse("artifact-list"),
        f"{reverse('artifact-list')}?{urlencode({'workflow': record.workflow_id, 'agent': record.agent_id})}",
        reverse("artifact-detail", args=[record.artifact_id]),
        reverse("artifact-delete", args=[record.artifact_id]),
        reverse("workflow-list"),
        reverse("workflow-detail", args=[record.workflow_id]),
        reverse("agent-list"),
        reverse("agent-detail", args=[record.agent_id]),
        reverse("task-detail", args=[record.task_id]),
        "/usage/",
        f"/usage/?{urlencode({'agent': record.agent_id})}",
        "/usage/calls/",
        f"/usage/calls/?{urlencode({'workflow': record.workflow_id})}",
    ]


def watch(page) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {"dialogs": [], "probes": []}

    def on_dialog(dialog) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda request: urlsplit(request.url).path == PROBE and seen["probes"].append(request.url))
    return seen


def assert_nothing_ran(page, seen: dict[str, list[str]], url: str) -> None:
    page.wait_for_timeout(300)  # time for htmx's load triggers and any image error to fire
    assert page.evaluate("window.__xss") is None, f"a payload ran on {url}"
    assert seen["dialogs"] == [], f"a dialog opened on {url}"
    assert seen["probes"] == [], f"htmx fetched the probe URL from {url}"
    assert page.locator("img[src=x], script:not([src]), [hx-get*=xss-probe]").count() == 0, url


def test_no_page_runs_anything_from_an_artifact_or_a_call(logged_in_page, hostile, hostile_call) -> None:
    page = logged_in_page
    seen = watch(page)
    for url in [*pages_showing(hostile), f"/usage/calls/{hostile_call.pk}/"]:
        response = page.goto(url)
        assert response.status == 200, url
        assert_nothing_ran(page, seen, url)
    # The artifact page shows the payloads as text, in the content and in the metadata table.
    page.goto(f"/artifacts/{hostile.artifact_id}/")
    assert SCRIPT in page.locator("#artifact-content").inner_text()
    assert HTMX in page.locator("#artifact-content").inner_text()
    assert f"key{IMG}" in page.locator("table.meta").inner_text()
    assert page.locator("h1").inner_text().endswith(f"title{IMG}")
    screenshot(page, "untrusted-artifact")
    page.goto(f"/usage/calls/{hostile_call.pk}/")
    assert page.locator("#call-prompt").inner_text() == f"{IMG}{HTMX}"
    assert page.locator("#call-system").inner_text() == SCRIPT


def test_content_swapped_in_by_htmx_runs_nothing_either(logged_in_page, hostile) -> None:
    for n in range(60):  # enough for a second page, which arrives through an htmx swap
        store_artifact(workflow_id=hostile.workflow_id, agent_id=hostile.agent_id, metadata={"title": f"{IMG}{n}"})
    page = logged_in_page
    seen = watch(page)
    page.goto("/artifacts/")
    page.select_option("#id_agent", hostile.agent_id)
    page.wait_for_url("**/artifacts/?agent=*")
    assert_nothing_ran(page, seen, "the filtered list")
    page.click("text=Load more")
    page.wait_for_selector("tr.load-more", state="detached")
    assert_nothing_ran(page, seen, "the list after load more")
    assert page.locator("table.artifacts tbody tr").count() == 61
