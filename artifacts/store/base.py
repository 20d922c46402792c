"""The `ArtifactStore` interface every backend implements (all methods are async)."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import datetime

from artifacts.store.artifact import Artifact, ArtifactExistsError, ArtifactsExistError, InvalidArtifactError
from artifacts.store.content import (
    CHUNK_BYTES,
    MEMORY,
    ContentInfo,
    ContentStream,
    Meter,
    info_for_text,
    text_chunks,
)

DEFAULT_PURGE_BATCH_SIZE = 500


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
        except BaseException as exc:
            for artifact_id in saved:
                await self.delete(artifact_id)
            if isinstance(exc, ArtifactExistsError):
                raise ArtifactsExistError([exc.artifact_id]) from None
            raise

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
    async def count(self) -> int:
        """How many artifacts are stored and not expired."""

    @abstractmethod
    async def list_by_lineage(
        self, name: str, *, agent_id: str, artifact_type: str, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        """Versions of one logical artifact: same metadata `name`, agent and type, oldest first."""

    @abstractmethod
    async def purge_expired(self, *, now: datetime | None = None, batch_size: int = DEFAULT_PURGE_BATCH_SIZE) -> int:
        """Delete artifacts whose expires_at has passed (content too), `batch_size` at a time; returns how many."""

    async def save_stream(self, artifact: Artifact, chunks: AsyncIterable[bytes]) -> None:
        """Save `artifact` with its content read from UTF-8 `chunks` (its own `content` must be empty).

        Backends that can place content chunk by chunk override this; this fallback joins the chunks.
        """
        check_streamed(artifact)
        meter = Meter(validate=True)
        parts = [chunk async for chunk in chunks]
        for part in parts:
            meter.feed(part)
        meter.finish()
        await self.save(dataclasses.replace(artifact, content=b"".join(parts).decode()))

    async def open_content(self, artifact_id: str, *, chunk_size: int = CHUNK_BYTES) -> ContentStream | None:
        """The content as UTF-8 chunks for a streamed download, or None if there is no such (live) artifact."""
        artifact = await self.get(artifact_id)
        if artifact is None:
            return None
        info = info_for_text(artifact.content, location=MEMORY)

        async def chunks() -> AsyncIterator[bytes]:
            for chunk in text_chunks(artifact.content, chunk_chars=max(1, chunk_size // 4)):
                yield chunk

        return ContentStream(artifact_id, info.original_size, info.sha256, chunks())

    async def content_info(self, artifact_id: str) -> ContentInfo | None:
        """Sizes, encoding, location and SHA-256 of the content, without reading it where the backend can."""
        artifact = await self.get(artifact_id)
        return info_for_text(artifact.content, location=MEMORY) if artifact else None


def check_limit(limit: int | None) -> None:
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidArtifactError(f"limit must be a positive whole number or None, not {limit!r}.")


def unknown_cursor(after: str) -> InvalidArtifactError:
    return InvalidArtifactError(
        f"after={after!r} names no stored artifact; pass the id of the last artifact of the previous page."
    )


def check_streamed(artifact: Artifact) -> None:
    if artifact.content:
        raise InvalidArtifactError("save_stream takes the content from its chunks; the artifact's content must be ''.")


def check_batch(artifacts: Sequence[Artifact]) -> None:
    seen: set[str] = set()
    for artifact in artifacts:
        if artifact.artifact_id in seen:
            raise InvalidArtifactError(f"artifact_id {artifact.artifact_id!r} appears more than once in the batch.")
        seen.add(artifact.artifact_id)
