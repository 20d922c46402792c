"""The `ArtifactStore` interface every backend implements (all methods are async)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from artifacts.store.artifact import Artifact, InvalidArtifactError


class ArtifactStore(ABC):
    """Stores artifacts write-once. Lists are oldest first (created_at, then id) and keyset-paged:
    pass `after=<id of the last artifact of the previous page>` and a `limit`."""

    @abstractmethod
    async def save(self, artifact: Artifact) -> None:
        """Store a new artifact; raises ArtifactExistsError if its id is taken."""

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
