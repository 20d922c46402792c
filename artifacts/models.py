from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Left

from artifacts.store.artifact import MAX_ID_LENGTH, Artifact

# Full-text search covers the first 200,000 characters: a tsvector cannot exceed 1 MB.
SEARCH_PREFIX_CHARS = 200_000


class ArtifactManager(models.Manager["ArtifactRecord"]):
    def get_queryset(self) -> models.QuerySet[ArtifactRecord]:
        # The tsvector is only for filtering; never ship it to Python.
        return super().get_queryset().defer("search")


class ArtifactRecord(models.Model):
    """One stored artifact. Write-once; every list is ordered by (created_at, artifact_id)."""

    artifact_id = models.CharField(primary_key=True, max_length=MAX_ID_LENGTH)
    workflow_id = models.CharField(max_length=MAX_ID_LENGTH)
    task_id = models.CharField(max_length=MAX_ID_LENGTH)
    agent_id = models.CharField(max_length=MAX_ID_LENGTH)
    artifact_type = models.CharField(max_length=64)
    content = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    search = models.GeneratedField(
        expression=SearchVector(Left("content", SEARCH_PREFIX_CHARS), config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = ArtifactManager()

    class Meta:
        db_table = "artifacts_artifact"
        verbose_name = "artifact"
        ordering = ["created_at", "artifact_id"]
        indexes = [
            models.Index(fields=["created_at", "artifact_id"], name="artifact_created_idx"),
            models.Index(fields=["workflow_id", "created_at", "artifact_id"], name="artifact_workflow_idx"),
            models.Index(fields=["task_id", "created_at", "artifact_id"], name="artifact_task_idx"),
            models.Index(fields=["agent_id", "created_at", "artifact_id"], name="artifact_agent_idx"),
            models.Index(fields=["artifact_type", "created_at", "artifact_id"], name="artifact_type_idx"),
            GinIndex(fields=["search"], name="artifact_search_idx"),
        ]

    def __str__(self) -> str:
        return self.artifact_id

    def to_artifact(self) -> Artifact:
        return Artifact(
            artifact_id=self.artifact_id,
            workflow_id=self.workflow_id,
            task_id=self.task_id,
            agent_id=self.agent_id,
            artifact_type=self.artifact_type,
            content=self.content,
            metadata=self.metadata,
            created_at=self.created_at,
        )

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> ArtifactRecord:
        return cls(
            artifact_id=artifact.artifact_id,
            workflow_id=artifact.workflow_id,
            task_id=artifact.task_id,
            agent_id=artifact.agent_id,
            artifact_type=artifact.artifact_type,
            content=artifact.content,
            metadata=artifact.metadata,
            created_at=artifact.created_at,
        )


# Rollups: per-workflow, per-agent, per-task and per-(workflow, agent) counts and first/last activity,
# so the dashboard's lists never GROUP BY the artifacts table. PostgreSQL statement-level triggers on
# artifacts_artifact (migration 0010) keep them current on every write path: the store, bulk_create,
# COPY, the admin, raw SQL. `artifacts.rollups.rebuild_artifact_rollups()` recomputes them from scratch.


class WorkflowRollup(models.Model):
    workflow_id = models.CharField(primary_key=True, max_length=MAX_ID_LENGTH)
    artifact_count = models.BigIntegerField(default=0)
    agent_count = models.IntegerField(default=0)
    task_count = models.IntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        db_table = "artifacts_workflow_rollup"
        indexes = [models.Index(fields=["last_at", "workflow_id"], name="workflow_rollup_last_idx")]

    def __str__(self) -> str:
        return self.workflow_id


class AgentRollup(models.Model):
    agent_id = models.CharField(primary_key=True, max_length=MAX_ID_LENGTH)
    artifact_count = models.BigIntegerField(default=0)
    workflow_count = models.IntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        db_table = "artifacts_agent_rollup"
        indexes = [models.Index(fields=["last_at", "agent_id"], name="agent_rollup_last_idx")]

    def __str__(self) -> str:
        return self.agent_id


class TaskRollup(models.Model):
    """One task within one workflow (a task id is expected to belong to one workflow, but need not)."""

    id = models.BigAutoField(primary_key=True)
    workflow_id = models.CharField(max_length=MAX_ID_LENGTH)
    task_id = models.CharField(max_length=MAX_ID_LENGTH)
    artifact_count = models.BigIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        db_table = "artifacts_task_rollup"
        constraints = [models.UniqueConstraint(fields=["workflow_id", "task_id"], name="task_rollup_unique")]
        indexes = [
            models.Index(fields=["workflow_id", "first_at", "task_id"], name="task_rollup_workflow_idx"),
            models.Index(fields=["task_id"], name="task_rollup_task_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.task_id}"


class WorkflowAgentRollup(models.Model):
    id = models.BigAutoField(primary_key=True)
    workflow_id = models.CharField(max_length=MAX_ID_LENGTH)
    agent_id = models.CharField(max_length=MAX_ID_LENGTH)
    artifact_count = models.BigIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        db_table = "artifacts_workflow_agent_rollup"
        constraints = [models.UniqueConstraint(fields=["workflow_id", "agent_id"], name="wf_agent_rollup_unique")]
        indexes = [models.Index(fields=["agent_id", "last_at", "workflow_id"], name="wf_agent_rollup_agent_idx")]

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.agent_id}"
