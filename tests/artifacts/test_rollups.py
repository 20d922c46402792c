"""The rollup tables stay equal to a from-scratch recount on every write path."""

from __future__ import annotations

import random

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from artifacts.models import AgentRollup, ArtifactRecord, TaskRollup, WorkflowAgentRollup, WorkflowRollup
from artifacts.rollups import rebuild_artifact_rollups
from artifacts.store import DjangoArtifactStore
from tests.factories import make_artifact

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[tuple]]:
    return {
        "workflows": sorted(
            WorkflowRollup.objects.values_list(
                "workflow_id", "artifact_count", "agent_count", "task_count", "first_at", "last_at"
            )
        ),
        "agents": sorted(
            AgentRollup.objects.values_list("agent_id", "artifact_count", "workflow_count", "first_at", "last_at")
        ),
        "tasks": sorted(
            TaskRollup.objects.values_list("workflow_id", "task_id", "artifact_count", "first_at", "last_at")
        ),
        "pairs": sorted(
            WorkflowAgentRollup.objects.values_list("workflow_id", "agent_id", "artifact_count", "first_at", "last_at")
        ),
    }


def assert_rollups_match_a_recount() -> None:
    maintained = snapshot()
    rebuild_artifact_rollups()
    assert maintained == snapshot()


def random_artifacts(rng: random.Random, n: int) -> list[ArtifactRecord]:
    return [
        ArtifactRecord.from_artifact(
            make_artifact(
                workflow_id=f"wf-{rng.randint(1, 4)}",
                task_id=f"task-{rng.randint(1, 6)}",
                agent_id=f"agent-{rng.randint(1, 3)}",
            )
        )
        for _ in range(n)
    ]


def test_saving_through_the_store_counts_workflows_agents_and_tasks() -> None:
    store = DjangoArtifactStore()
    async_to_sync(store.save)(make_artifact(workflow_id="wf-a", task_id="t-1", agent_id="coder"))
    async_to_sync(store.save)(make_artifact(workflow_id="wf-a", task_id="t-2", agent_id="tester"))
    async_to_sync(store.save)(make_artifact(workflow_id="wf-b", task_id="t-3", agent_id="coder"))
    wf = WorkflowRollup.objects.get(pk="wf-a")
    assert (wf.artifact_count, wf.agent_count, wf.task_count) == (2, 2, 2)
    coder = AgentRollup.objects.get(pk="coder")
    assert (coder.artifact_count, coder.workflow_count) == (2, 2)
    assert_rollups_match_a_recount()


def test_bulk_inserts_and_deletes_keep_the_rollups_exact() -> None:
    rng = random.Random(5)
    for _ in range(5):
        ArtifactRecord.objects.bulk_create(random_artifacts(rng, 30))
        assert_rollups_match_a_recount()
        doomed = list(ArtifactRecord.objects.order_by("?").values_list("pk", flat=True)[: rng.randint(1, 25)])
        ArtifactRecord.objects.filter(pk__in=doomed).delete()
        assert_rollups_match_a_recount()


def test_deleting_the_last_artifact_removes_the_rollup_rows() -> None:
    store = DjangoArtifactStore()
    artifact = make_artifact(workflow_id="wf-only", agent_id="lonely")
    async_to_sync(store.save)(artifact)
    assert async_to_sync(store.delete)(artifact.artifact_id)
    assert not WorkflowRollup.objects.filter(pk="wf-only").exists()
    assert not AgentRollup.objects.filter(pk="lonely").exists()
    assert snapshot() == {"workflows": [], "agents": [], "tasks": [], "pairs": []}


def test_deleting_the_newest_artifact_moves_last_activity_back() -> None:
    older = make_artifact(workflow_id="wf-a")
    newer = make_artifact(workflow_id="wf-a")
    ArtifactRecord.objects.bulk_create([ArtifactRecord.from_artifact(a) for a in (older, newer)])
    ArtifactRecord.objects.filter(pk=newer.artifact_id).delete()
    assert WorkflowRollup.objects.get(pk="wf-a").last_at == older.created_at


def test_raw_sql_and_truncate_are_followed_too() -> None:
    a = make_artifact(workflow_id="wf-raw")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO artifacts_artifact (artifact_id, workflow_id, task_id, agent_id, artifact_type, content,"
            " metadata, created_at, content_encoding, content_location, object_key, original_size, stored_size,"
            " sha256, search_text) VALUES (%s, %s, %s, %s, %s, %s, '{}', %s, 'identity', 'database', '', 0, 0, '', '')",
            [a.artifact_id, a.workflow_id, a.task_id, a.agent_id, a.artifact_type, a.content, a.created_at],
        )
        assert WorkflowRollup.objects.filter(pk="wf-raw").exists()
        cursor.execute("TRUNCATE artifacts_artifact CASCADE")  # its content chunks go too
    assert snapshot() == {"workflows": [], "agents": [], "tasks": [], "pairs": []}
