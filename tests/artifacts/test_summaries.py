"""Workflow, agent and task summaries from the rollups, paged by keyset."""

from __future__ import annotations

from datetime import timedelta

import pytest

from artifacts.queries import (
    agent_summaries,
    agent_summary,
    artifact_totals,
    task_placements,
    task_summaries,
    workflow_summaries,
    workflow_summary,
    workflow_timeline,
)
from tests.factories import store_artifact

pytestmark = pytest.mark.django_db


def walk(fetch, **kwargs) -> list:
    rows, cursor = [], None
    while True:
        page = fetch(limit=2, cursor=cursor, **kwargs)
        rows += page.rows
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def test_workflows_come_most_recently_active_first_with_their_agents() -> None:
    store_artifact(workflow_id="wf-old", agent_id="coder")
    store_artifact(workflow_id="wf-new", agent_id="coder", task_id="t-1")
    store_artifact(workflow_id="wf-new", agent_id="tester", task_id="t-1")
    store_artifact(workflow_id="wf-new", agent_id="tester", task_id="t-2")
    rows = workflow_summaries().rows
    assert [r.workflow_id for r in rows] == ["wf-new", "wf-old"]
    new = rows[0]
    assert (new.artifact_count, new.task_count, new.agent_count) == (3, 2, 2)
    assert new.agent_ids == ("tester", "coder")  # busiest first


def test_workflow_paging_walks_every_workflow_once() -> None:
    for n in range(7):
        store_artifact(workflow_id=f"wf-{n}")
    assert sorted(r.workflow_id for r in walk(workflow_summaries)) == [f"wf-{n}" for n in range(7)]


def test_workflows_of_one_agent_and_by_id() -> None:
    for n in range(5):
        store_artifact(workflow_id=f"wf-{n}", agent_id="coder" if n % 2 else "tester")
    assert [r.workflow_id for r in walk(workflow_summaries, agent_id="coder")] == ["wf-3", "wf-1"]
    assert [r.workflow_id for r in workflow_summaries(id_contains="F-4").rows] == ["wf-4"]
    assert workflow_summary(workflow_id="wf-2").artifact_count == 1
    assert workflow_summary(workflow_id="missing") is None


def test_agents_and_their_workflow_counts() -> None:
    store_artifact(workflow_id="wf-1", agent_id="coder")
    store_artifact(workflow_id="wf-2", agent_id="coder")
    store_artifact(workflow_id="wf-2", agent_id="reviewer")
    assert [r.agent_id for r in walk(agent_summaries)] == ["reviewer", "coder"]
    coder = agent_summary(agent_id="coder")
    assert (coder.artifact_count, coder.workflow_count) == (2, 2)


def test_a_workflow_timeline_groups_artifacts_by_task_in_start_order() -> None:
    first = store_artifact(workflow_id="wf", task_id="design")
    second = store_artifact(workflow_id="wf", task_id="build")
    third = store_artifact(workflow_id="wf", task_id="design")
    for _ in range(3):
        store_artifact(workflow_id="wf", task_id="build")
    timeline = workflow_timeline(workflow_id="wf", per_task=2)
    assert [t.task.task_id for t in timeline.tasks] == ["design", "build"]
    assert [a.artifact_id for a in timeline.tasks[0].artifacts] == [first.artifact_id, third.artifact_id]
    assert timeline.tasks[1].artifacts[0].artifact_id == second.artifact_id
    assert timeline.tasks[1].more == 2
    assert [t.task_id for t in walk(task_summaries, workflow_id="wf")] == ["design", "build"]
    assert [p.workflow_id for p in task_placements(task_id="build")] == ["wf"]


def test_totals_for_a_period_and_for_all_time() -> None:
    old = store_artifact(workflow_id="wf-old", agent_id="a")
    store_artifact(workflow_id="wf-new", agent_id="b", created_at=old.created_at + timedelta(days=10))
    all_time = artifact_totals()
    assert (all_time.artifact_count, all_time.workflow_count, all_time.agent_count) == (2, 2, 2)
    recent = artifact_totals(since=old.created_at + timedelta(days=1))
    assert (recent.artifact_count, recent.workflow_count, recent.agent_count) == (1, 1, 1)
