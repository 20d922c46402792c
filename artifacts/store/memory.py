"""A dict-backed store for tests and for agents that need no persistence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from artifacts.expiry import with_default_expiry
from artifacts.store.artifact import Artifact, ArtifactExistsError, ArtifactsExistError, validate_artifact_type
from artifacts.store.base import DEFAULT_PURGE_BATCH_SIZE, ArtifactStore, check_batch, check_limit, unknown_cursor


def _key(artifact: Artifact) -> tuple:
    return (artifact.created_at, artifact.artifact_id)


class InMemoryArtifactStore(ArtifactStore):
    def __init__(self) -> None:
        self._artifacts: dict[str, Artifact] = {}

    def clear(self) -> None:
        self._artifacts.clear()

    async def save(self, artifact: Artifact) -> None:
        if artifact.artifact_id in self._artifacts:
            raise ArtifactExistsError(artifact.artifact_id)
        self._artifacts[artifact.artifact_id] = with_default_expiry(artifact)

    async def save_many(self, artifacts: Sequence[Artifact]) -> None:
        check_batch(artifacts)
        if taken := [a.artifact_id for a in artifacts if a.artifact_id in self._artifacts]:
            raise ArtifactsExistError(taken)
        self._artifacts.update((a.artifact_id, with_default_expiry(a)) for a in artifacts)

    async def get(self, artifact_id: str) -> Artifact | None:
        artifact = self._artifacts.get(artifact_id)
        return None if artifact is None or artifact.is_expired() else artifact

    async def list_by_workflow(
        self, workflow_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return self._list(lambda a: a.workflow_id == workflow_id, limit, after)

    async def list_by_task(self, task_id: str, *, limit: int | None = None, after: str | None = None) -> list[Artifact]:
        return self._list(lambda a: a.task_id == task_id, limit, after)

    async def list_by_agent(
        self, agent_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return self._list(lambda a: a.agent_id == agent_id, limit, after)

    async def list_by_type(
        self, artifact_type: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        validate_artifact_type(artifact_type)
        return self._list(lambda a: a.artifact_type == artifact_type, limit, after)

    async def list_by_lineage(
        self, name: str, *, agent_id: str, artifact_type: str, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return self._list(
            lambda a: a.lineage_name == name and a.agent_id == agent_id and a.artifact_type == artifact_type,
            limit,
            after,
        )

    async def delete(self, artifact_id: str) -> bool:
        return self._artifacts.pop(artifact_id, None) is not None

    async def count(self) -> int:
        now = datetime.now(UTC)
        return sum(not a.is_expired(now) for a in self._artifacts.values())

    async def purge_expired(self, *, now: datetime | None = None, batch_size: int = DEFAULT_PURGE_BATCH_SIZE) -> int:
        now = now or datetime.now(UTC)
        expired = [a.artifact_id for a in self._artifacts.values() if a.is_expired(now)]
        for artifact_id in expired:
            del self._artifacts[artifact_id]
        return len(expired)

    def _list(self, match: Callable[[Artifact], bool], limit: int | None, after: str | None) -> list[Artifact]:
        check_limit(limit)
        now = datetime.now(UTC)
        rows = sorted((a for a in self._artifacts.values() if match(a) and not a.is_expired(now)), key=_key)
        if after is not None:
            cursor = self._artifacts.get(after)
            if cursor is None:
                raise unknown_cursor(after)
            rows = [a for a in rows if _key(a) > _key(cursor)]
        return rows[:limit] if limit is not None else rows
