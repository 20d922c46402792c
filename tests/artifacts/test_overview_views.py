"""Home, workflows, agents and tasks pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import store_artifact

pytestmark = pytest.mark.django_db

PAGES = ["/", "/workflows/", "/agents/", "/artifacts/"]


@pytest.mark.parametrize("url", [*PAGES, "/workflows/wf-1/", "/agents/coder/", "/tasks/t-1/"])
def test_every_page_redirects_anonymous_users_to_login(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_empty_pages_say_what_to_do(viewer_client, url: str) -> None:
    response = viewer_client.get(url)
    assert response.status_code == 200
    assert b'class="empty"' in response.content


def test_home_shows_totals_for_the_chosen_period(viewer_client) -> None:
    store_artifact(workflow_id="wf-1", agent_id="coder", created_at=datetime.now(UTC))
    store_artifact(workflow_id="wf-2", agent_id="coder", created_at=datetime(2020, 1, 1, tzinfo=UTC))
    week = viewer_client.get("/?period=7d")
    assert week.context["totals"].artifact_count == 1
    everything = viewer_client.get("/?period=all")
    assert everything.context["totals"].artifact_count == 2
    assert b"wf-1" in everything.content and b"wf-2" in everything.content


def test_home_period_links_swap_only_the_totals(viewer_client) -> None:
    response = viewer_client.get("/?period=24h", headers={"HX-Request": "true"})
    assert response.content.lstrip().startswith(b'<div id="totals"')
    assert b"<html" not in response.content
    assert "HX-Request" in response["Vary"]


def test_an_unknown_period_falls_back_to_a_week(viewer_client) -> None:
    assert viewer_client.get("/?period=<script>").context["period"] == "7d"


def test_the_workflow_list_shows_counts_agents_and_links(viewer_client, django_assert_num_queries) -> None:
    for n in range(3):
        store_artifact(workflow_id="wf-1", task_id=f"t-{n}", agent_id=f"agent-{n}")
    store_artifact(workflow_id="wf-2", agent_id="agent-0")
    with django_assert_num_queries(6):  # session, user, workflows, their agents, their usage, provider configs
        response = viewer_client.get("/workflows/")
    html = response.content.decode()
    assert '<a href="/workflows/wf-1/"><code>wf-1</code></a>' in html
    assert '<a class="tag" href="/agents/agent-2/">agent-2</a>' in html


def test_the_workflow_list_searches_and_loads_more(viewer_client) -> None:
    for n in range(60):
        store_artifact(workflow_id=f"wf-{n:02d}")
    first = viewer_client.get("/workflows/")
    assert len(first.context["workflows"]) == 50
    assert first.context["next_url"]
    more = viewer_client.get(first.context["next_url"], headers={"HX-Request": "true"})
    assert more.content.count(b"<tr>") == 10
    assert b"<table" not in more.content
    found = viewer_client.get("/workflows/?q=wf-07", headers={"HX-Request": "true"})
    assert [w.workflow_id for w, _ in found.context["workflows"]] == ["wf-07"]
    assert found["HX-Push-Url"] == "/workflows/?q=wf-07"


def test_a_workflow_page_shows_its_timeline_by_task(viewer_client, django_assert_num_queries) -> None:
    store_artifact(workflow_id="wf-1", task_id="plan", agent_id="planner", metadata={"title": "the plan"})
    store_artifact(workflow_id="wf-1", task_id="build", agent_id="coder", metadata={"title": "main.py"})
    store_artifact(workflow_id="wf-1", task_id="plan", agent_id="reviewer", artifact_type="review")
    # session, user, workflow, its pipeline run, its agents, tasks, their artifacts, usage totals,
    # usage by agent, calls
    with django_assert_num_queries(10):
        response = viewer_client.get("/workflows/wf-1/")
    html = response.content.decode()
    assert html.index("the plan") < html.index("main.py")
    assert '<a href="/tasks/plan/"><strong>plan</strong></a>' in html
    assert "/artifacts/?workflow=wf-1" in html


def test_an_unknown_workflow_is_a_404(viewer_client) -> None:
    response = viewer_client.get("/workflows/nope/")
    assert response.status_code == 404
    assert b"Nothing here" in response.content


def test_ids_with_slashes_and_odd_characters_have_pages(viewer_client) -> None:
    record = store_artifact(workflow_id="team/wf 1?x#y", task_id="a/b", agent_id="ops/bot")
    assert viewer_client.get("/workflows/team/wf%201%3Fx%23y/").status_code == 200
    assert viewer_client.get("/tasks/a/b/").status_code == 200
    assert viewer_client.get("/agents/ops/bot/").status_code == 200
    assert viewer_client.get(f"/artifacts/{record.artifact_id}/").status_code == 200


def test_the_agents_page_lists_every_agent(viewer_client, django_assert_num_queries) -> None:
    store_artifact(workflow_id="wf-1", agent_id="coder")
    store_artifact(workflow_id="wf-2", agent_id="coder")
    store_artifact(workflow_id="wf-2", agent_id="tester")
    with django_assert_num_queries(4):  # session, user, agents, their usage
        response = viewer_client.get("/agents/")
    html = response.content.decode()
    assert '<a href="/agents/coder/"><strong>coder</strong></a>' in html
    assert [a.agent_id for a, _ in response.context["agents"]] == ["tester", "coder"]


def test_an_agent_page_shows_its_workflows_and_latest_artifacts(viewer_client) -> None:
    store_artifact(workflow_id="wf-1", agent_id="coder", metadata={"title": "first.py"})
    store_artifact(workflow_id="wf-2", agent_id="coder", metadata={"title": "second.py"})
    store_artifact(workflow_id="wf-3", agent_id="tester")
    response = viewer_client.get("/agents/coder/")
    assert [w.workflow_id for w, _ in response.context["workflows"]] == ["wf-2", "wf-1"]
    assert b"first.py" in response.content and b"second.py" in response.content
    assert b"wf-3" not in response.content
    assert viewer_client.get("/agents/nobody/").status_code == 404


def test_a_task_page_lists_its_artifacts_oldest_first(viewer_client) -> None:
    first = store_artifact(workflow_id="wf-1", task_id="t-1", agent_id="coder")
    second = store_artifact(workflow_id="wf-1", task_id="t-1", agent_id="tester")
    store_artifact(workflow_id="wf-1", task_id="t-2")
    response = viewer_client.get("/tasks/t-1/")
    assert [a.artifact_id for a in response.context["artifacts"]] == [first.artifact_id, second.artifact_id]
    assert response.context["agent_ids"] == ["coder", "tester"]
    assert b'href="/workflows/wf-1/"' in response.content
    assert viewer_client.get("/tasks/none/").status_code == 404
