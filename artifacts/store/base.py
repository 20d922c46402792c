"""The `ArtifactStore` interface every backend implements (all methods are async)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from artifacts.store.artifact import Artifact, ArtifactExistsError, ArtifactsExistError, InvalidArtifactError


class ArtifactStore(ABC):
    """Stores artifacts write-once. Lists are oldest first (created_at, then id) and keyset-paged:
    pass `after=<id of the last artifact of the previous page>` and a `limit`."""

    @abstractmethod
    async def save(self, artifact: Artifact) -> None:
        """Store a new artifact; raises ArtifactExistsError if its id is taken."""

    async def save_many(self, artifacts: Sequence[Artifact]) -> None:
        """Store a batch, all or nothing; raises ArtifactsExistError naming every id already taken.

        This default works for any backend by saving one by one and undoing on failure; backends with
        transactions override it with one atomic write.
        """
        check_batch(artifacts)
        taken = [a.artifact_id for a in artifacts if await self.get(a.artifact_id) is not None]
        if taken:
            raise ArtifactsExistError(taken)
        saved: list[str] = []
        try:
            for artifact in artifacts:
                await self.save(artifact)
                saved.append(artifact.artifact_id)
        except ArtifactExistsError as exc:
            for artifact_id in saved:
                await self.delete(artifact_id)
            raise ArtifactsExistError([exc.artifact_id]) from None

    @abstractmethod
    async def get(self, artifact_id: str) -> Artifact | None: ...

    @abstractmethod
    async def list_by_workflow(
        self, workflow_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]: ...

    @abstractmethod
    async def list_by_task(
        self, task_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]: ...

    @abstractmethod
    async def list_by_agent(
        self, agent_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]: ...

    @abstractmethod
    async def list_by_type(
        self, artifact_type: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]: ...

    @abstractmethod
    async def delete(self, artifact_id: str) -> bool:
        """Delete an artifact; True if it existed."""

    @abstractmethod
    async def count(self) -> int: ...


def check_limit(limit: int | None) -> None:
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidArtifactError(f"limit must be a positive whole number or None, not {limit!r}.")


def unknown_cursor(after: str) -> InvalidArtifactError:
    return InvalidArtifactError(
        f"after={after!r} names no stored artifact; pass the id of the last artifact of the previous page."
    )


def check_batch(artifacts: Sequence[Artifact]) -> None:
    seen: set[str] = set()
    for artifact in artifacts:
        if artifact.artifact_id in seen:
            raise InvalidArtifactError(f"artifact_id {artifact.artifact_id!r} appears more than once in the batch.")
        seen.add(artifact.artifact_id)
