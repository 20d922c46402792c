"""The default backend: PostgreSQL through the Django ORM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from artifacts.store.artifact import Artifact, ArtifactExistsError, ArtifactsExistError, validate_artifact_type
from artifacts.store.base import ArtifactStore, check_batch, check_limit, unknown_cursor

if TYPE_CHECKING:
    from artifacts.models import ArtifactRecord


class DjangoArtifactStore(ArtifactStore):
    async def save(self, artifact: Artifact) -> None:
        from artifacts.models import ArtifactRecord

        await sync_to_async(_insert)(ArtifactRecord.from_artifact(artifact))

    async def save_many(self, artifacts: Sequence[Artifact]) -> None:
        from artifacts.models import ArtifactRecord

        check_batch(artifacts)
        await sync_to_async(_insert_many)([ArtifactRecord.from_artifact(a) for a in artifacts])

    async def get(self, artifact_id: str) -> Artifact | None:
        from artifacts.models import ArtifactRecord

        record = await ArtifactRecord.objects.filter(pk=artifact_id).afirst()
        return record.to_artifact() if record else None

    async def list_by_workflow(
        self, workflow_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(Q(workflow_id=workflow_id), limit, after)

    async def list_by_task(self, task_id: str, *, limit: int | None = None, after: str | None = None) -> list[Artifact]:
        return await self._list(Q(task_id=task_id), limit, after)

    async def list_by_agent(
        self, agent_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(Q(agent_id=agent_id), limit, after)

    async def list_by_type(
        self, artifact_type: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        validate_artifact_type(artifact_type)
        return await self._list(Q(artifact_type=artifact_type), limit, after)

    async def delete(self, artifact_id: str) -> bool:
        from artifacts.models import ArtifactRecord

        deleted, _ = await ArtifactRecord.objects.filter(pk=artifact_id).adelete()
        return deleted > 0

    async def count(self) -> int:
        from artifacts.models import ArtifactRecord

        return await ArtifactRecord.objects.acount()

    async def _list(self, where: Q, limit: int | None, after: str | None) -> list[Artifact]:
        check_limit(limit)
        rows = await keyset_page(where, limit=limit, after=after)
        return [record.to_artifact() async for record in rows]


def _insert(record: ArtifactRecord) -> None:
    # A savepoint, so a duplicate id leaves the caller's transaction usable; force_insert, so an
    # existing id is an error and never an UPDATE.
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        if type(record).objects.filter(pk=record.pk).exists():
            raise ArtifactExistsError(record.pk) from None
        raise


def _insert_many(records: list[ArtifactRecord]) -> None:
    """One INSERT for the whole batch in a savepoint: all rows or none."""
    if not records:
        return
    model = type(records[0])
    try:
        with transaction.atomic():
            model.objects.bulk_create(records)
    except IntegrityError:
        taken = list(model.objects.filter(pk__in=[r.pk for r in records]).values_list("pk", flat=True))
        if taken:
            raise ArtifactsExistError(sorted(taken)) from None
        raise


async def keyset_page(where: Q, *, limit: int | None, after: str | None) -> QuerySet:
    """Rows matching `where`, oldest first, strictly after the artifact `after` (keyset, never OFFSET)."""
    from artifacts.models import ArtifactRecord

    rows = ArtifactRecord.objects.filter(where).order_by("created_at", "artifact_id")
    if after is not None:
        cursor = await ArtifactRecord.objects.filter(pk=after).values("created_at").afirst()
        if cursor is None:
            raise unknown_cursor(after)
        created = cursor["created_at"]
        rows = rows.filter(Q(created_at__gt=created) | Q(created_at=created, artifact_id__gt=after))
    return rows[:limit] if limit is not None else rows
