from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Concat, Left

from artifacts import compression
from artifacts.store.artifact import MAX_ID_LENGTH, Artifact, ArtifactError
from artifacts.store.content import (
    DATABASE,
    DATABASE_CHUNKS,
    OBJECT_STORAGE,
    SEARCH_PREFIX_CHARS,
    ContentInfo,
    read_text,
)


def live(now: datetime | None = None) -> Q:
    """Rows that have not expired: every read path filters with this, so expiry takes effect at once."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now or datetime.now(UTC))


class ArtifactQuerySet(models.QuerySet["ArtifactRecord"]):
    def live(self, now: datetime | None = None) -> ArtifactQuerySet:
        return self.filter(live(now))

    def expired(self, now: datetime | None = None) -> ArtifactQuerySet:
        return self.filter(expires_at__lte=now or datetime.now(UTC))


class ArtifactManager(models.Manager.from_queryset(ArtifactQuerySet)):  # type: ignore[misc]
    """Every row, expired or not (purging, cursors of a page that outlived its artifact)."""

    def get_queryset(self) -> ArtifactQuerySet:
        # The tsvector and its text are only for filtering; never ship them to Python.
        return super().get_queryset().defer("search", "search_text")


class LiveArtifactManager(ArtifactManager):
    """The default: expired artifacts are gone for every list, page, count and the admin."""

    def get_queryset(self) -> ArtifactQuerySet:
        return super().get_queryset().live()


class ArtifactRecord(models.Model):
    """One stored artifact. Write-once; every list is ordered by (created_at, artifact_id).

    Content lives in one of four places: `content` (plain text), `content_blob` (zstd, in the row),
    ArtifactContentChunk rows (large content, plain or zstd, 1 MiB a row), or an object in S3-compatible
    storage named by `object_key`. The sizes and SHA-256 describe the
    original UTF-8 content wherever it lives.
    """

    class Location(models.TextChoices):
        DATABASE = DATABASE, "database"
        DATABASE_CHUNKS = DATABASE_CHUNKS, "database (chunks)"
        OBJECT_STORAGE = OBJECT_STORAGE, "object storage"

    class Encoding(models.TextChoices):
        IDENTITY = compression.IDENTITY, "plain"
        ZSTD = compression.ZSTD, "zstd"

    artifact_id = models.CharField(primary_key=True, max_length=MAX_ID_LENGTH)
    workflow_id = models.CharField(max_length=MAX_ID_LENGTH)
    task_id = models.CharField(max_length=MAX_ID_LENGTH)
    agent_id = models.CharField(max_length=MAX_ID_LENGTH)
    artifact_type = models.CharField(max_length=64)
    content = models.TextField(blank=True, help_text="The content, when stored as plain text in the row.")
    content_blob = models.BinaryField(
        null=True, blank=True, help_text="The content, when stored compressed in the row."
    )
    content_encoding = models.CharField(max_length=16, choices=Encoding.choices, default=Encoding.IDENTITY)
    content_location = models.CharField(max_length=16, choices=Location.choices, default=Location.DATABASE)
    object_key = models.CharField(max_length=1024, blank=True)
    original_size = models.BigIntegerField(default=0, help_text="Bytes of the content as UTF-8.")
    stored_size = models.BigIntegerField(default=0, help_text="Bytes actually stored (after compression).")
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the content as UTF-8.")
    search_text = models.TextField(
        blank=True, help_text="The first characters of content stored elsewhere, so full-text search still finds it."
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    lineage_name = models.GeneratedField(
        expression=KT("metadata__name"), output_field=models.TextField(), db_persist=True
    )
    search = models.GeneratedField(
        expression=SearchVector(Left(Concat("content", "search_text"), SEARCH_PREFIX_CHARS), config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = LiveArtifactManager()
    all_objects = ArtifactManager()

    class Meta:
        db_table = "artifacts_artifact"
        verbose_name = "artifact"
        ordering = ["created_at", "artifact_id"]
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["created_at", "artifact_id"], name="artifact_created_idx"),
            models.Index(fields=["workflow_id", "created_at", "artifact_id"], name="artifact_workflow_idx"),
            models.Index(fields=["task_id", "created_at", "artifact_id"], name="artifact_task_idx"),
            models.Index(fields=["agent_id", "created_at", "artifact_id"], name="artifact_agent_idx"),
            models.Index(fields=["artifact_type", "created_at", "artifact_id"], name="artifact_type_idx"),
            models.Index(
                fields=["lineage_name", "agent_id", "artifact_type", "created_at", "artifact_id"],
                name="artifact_lineage_idx",
                condition=Q(lineage_name__isnull=False),
            ),
            models.Index(fields=["expires_at"], name="artifact_expiry_idx", condition=Q(expires_at__isnull=False)),
            GinIndex(fields=["search"], name="artifact_search_idx"),
        ]

    def __str__(self) -> str:
        return self.artifact_id

    @property
    def content_info(self) -> ContentInfo:
        return ContentInfo(
            original_size=self.original_size,
            stored_size=self.stored_size,
            encoding=self.content_encoding,
            location=self.content_location,
            sha256=self.sha256,
        )

    def to_artifact(self, content: str | None = None) -> Artifact:
        """The value object; content stored in object storage must be passed in (the store fetches it)."""
        return Artifact(
            artifact_id=self.artifact_id,
            workflow_id=self.workflow_id,
            task_id=self.task_id,
            agent_id=self.agent_id,
            artifact_type=self.artifact_type,
            content=self.inline_content() if content is None else content,
            metadata=self.metadata,
            created_at=self.created_at,
            expires_at=self.expires_at,
        )

    def inline_content(self) -> str:
        """The content when it is in this row (plain or compressed)."""
        if self.content_location != DATABASE:
            where = "in object storage" if self.content_location == OBJECT_STORAGE else "stored in chunks"
            raise ArtifactError(f"The content of artifact {self.artifact_id!r} is {where}; read it through the store.")
        if self.content_encoding == compression.IDENTITY:
            return self.content
        chunks = compression.decode_chunks([bytes(self.content_blob or b"")], self.content_encoding)
        return read_text(chunks, artifact_id=self.artifact_id, sha256=self.sha256, size=self.original_size)

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> ArtifactRecord:
        """A row holding the content as plain text in the row (the store decides other placements)."""
        from artifacts.store.content import info_for_text

        info = info_for_text(artifact.content, location=DATABASE)
        return cls(
            artifact_id=artifact.artifact_id,
            workflow_id=artifact.workflow_id,
            task_id=artifact.task_id,
            agent_id=artifact.agent_id,
            artifact_type=artifact.artifact_type,
            content=artifact.content,
            original_size=info.original_size,
            stored_size=info.stored_size,
            sha256=info.sha256,
            metadata=artifact.metadata,
            created_at=artifact.created_at,
            expires_at=artifact.expires_at,
        )


class ArtifactContentChunk(models.Model):
    """One piece of a large artifact's stored content (plain or zstd, as its row's encoding says).

    Written one at a time in the transaction that inserts the artifact and read back one at a time, so
    neither a save nor a download holds the whole content. Deleting the artifact deletes its chunks in
    the database (ON DELETE CASCADE), whichever way the row goes.
    """

    pk = models.CompositePrimaryKey("artifact_id", "seq")
    artifact = models.ForeignKey(
        ArtifactRecord, on_delete=models.DB_CASCADE, related_name="content_chunks", db_index=False
    )
    seq = models.IntegerField(help_text="Position of this chunk, from 0.")
    data = models.BinaryField()

    class Meta:
        db_table = "artifacts_content_chunk"
        verbose_name = "artifact content chunk"

    def __str__(self) -> str:
        return f"{self.artifact_id}#{self.seq}"


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
