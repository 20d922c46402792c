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
