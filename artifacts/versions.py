"""Versions of one logical artifact across workflow runs, and the diff between two of them.

The lineage key is the metadata `name` (e.g. a file path) together with the agent and the type: the
coder's `src/app.py` of every run is one history. An artifact without a `name` is its own only version.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from artifacts.store.artifact import Artifact, InvalidArtifactError
from artifacts.store.base import ArtifactStore


@dataclass(frozen=True, slots=True)
class LineageKey:
    name: str
    agent_id: str
    artifact_type: str


def lineage_key(artifact: Artifact) -> LineageKey | None:
    if artifact.lineage_name is None:
        return None
    return LineageKey(artifact.lineage_name, artifact.agent_id, artifact.artifact_type)


async def artifact_versions(
    *, artifact_id: str, store: ArtifactStore | None = None, limit: int | None = None, after: str | None = None
) -> list[Artifact]:
    """Every live version in the artifact's lineage, oldest first (keyset-paged like the store's lists).

    [] when the artifact does not exist or has expired; [the artifact] when it has no lineage name.
    """
    store = store or _default_store()
    artifact = await store.get(artifact_id)
    if artifact is None:
        return []
    key = lineage_key(artifact)
    if key is None:
        return [artifact] if after is None else []
    return await store.list_by_lineage(
        key.name, agent_id=key.agent_id, artifact_type=key.artifact_type, limit=limit, after=after
    )


def artifact_diff(old: Artifact, new: Artifact, *, context: int = 3) -> str:
    """A unified diff from `old` to `new`, labelled with their ids and creation times ('' when equal)."""
    return "".join(
        difflib.unified_diff(
            old.content.splitlines(keepends=True),
            new.content.splitlines(keepends=True),
            fromfile=f"{old.artifact_id}",
            tofile=f"{new.artifact_id}",
            fromfiledate=old.created_at.isoformat(),
            tofiledate=new.created_at.isoformat(),
            n=context,
        )
    )


async def artifact_version_diff(
    *, from_id: str, to_id: str, store: ArtifactStore | None = None, context: int = 3
) -> str:
    """The diff between two stored versions; an unknown id is an InvalidArtifactError naming it."""
    store = store or _default_store()
    old, new = await store.get(from_id), await store.get(to_id)
    for artifact_id, artifact in ((from_id, old), (to_id, new)):
        if artifact is None:
            raise InvalidArtifactError(f"No stored artifact has id {artifact_id!r}; it cannot be diffed.")
    assert old is not None and new is not None
    return artifact_diff(old, new, context=context)


def _default_store() -> ArtifactStore:
    from artifacts.store import get_artifact_store

    return get_artifact_store()
