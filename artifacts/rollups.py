"""Rollups of the artifact table: counts and first/last activity per workflow, agent, task and
(workflow, agent) pair, so the dashboard's lists never GROUP BY a million artifacts per request.

PostgreSQL statement-level triggers (migration 0010_rollups) maintain them on every write path: the
store's save and delete, `bulk_create`, COPY, the admin, raw SQL, TRUNCATE. Nothing needs to call
anything after writing artifacts. `rebuild_artifact_rollups()` recomputes them from scratch, for
repair after someone edits placement columns (workflow, task, agent, created_at) in place, which the
triggers do not follow because artifacts are write-once.
"""

from __future__ import annotations

from django.db import connection, transaction

REBUILD_ROLLUPS_SQL = """
TRUNCATE artifacts_workflow_rollup, artifacts_agent_rollup, artifacts_task_rollup, artifacts_workflow_agent_rollup;
INSERT INTO artifacts_workflow_agent_rollup (workflow_id, agent_id, artifact_count, first_at, last_at)
    SELECT workflow_id, agent_id, count(*), min(created_at), max(created_at)
    FROM artifacts_artifact GROUP BY workflow_id, agent_id;
INSERT INTO artifacts_task_rollup (workflow_id, task_id, artifact_count, first_at, last_at)
    SELECT workflow_id, task_id, count(*), min(created_at), max(created_at)
    FROM artifacts_artifact GROUP BY workflow_id, task_id;
INSERT INTO artifacts_workflow_rollup (workflow_id, artifact_count, agent_count, task_count, first_at, last_at)
    SELECT p.workflow_id, sum(p.artifact_count), count(*), coalesce(t.n, 0), min(p.first_at), max(p.last_at)
    FROM artifacts_workflow_agent_rollup p
    LEFT JOIN (SELECT workflow_id, count(*) AS n FROM artifacts_task_rollup GROUP BY workflow_id) t USING (workflow_id)
    GROUP BY p.workflow_id, t.n;
INSERT INTO artifacts_agent_rollup (agent_id, artifact_count, workflow_count, first_at, last_at)
    SELECT agent_id, sum(artifact_count), count(*), min(first_at), max(last_at)
    FROM artifacts_workflow_agent_rollup GROUP BY agent_id;
"""


def rebuild_artifact_rollups() -> None:
    """Recompute every rollup from the artifact table, holding off writers while it runs."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE artifacts_artifact IN SHARE MODE")
        cursor.execute(REBUILD_ROLLUPS_SQL)
