"""Artifact expiry: default retention per type, and purging what has expired.

An expired artifact is gone for reads the moment its `expires_at` passes (every backend filters on
it); purging only reclaims the space, so it can run as rarely as an operator likes.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from django.conf import settings

from artifacts.store.artifact import Artifact
from artifacts.store.base import ArtifactStore

logger = logging.getLogger(__name__)


def retention_for(artifact_type: str) -> timedelta | None:
    """How long an artifact of this type is kept by default (CONDUCTOR_RETENTION_DAYS), or None for ever."""
    days = settings.CONDUCTOR_RETENTION_DAYS
    value = days.get(artifact_type, days.get("*"))
    return timedelta(days=value) if value is not None and value >= 0 else None


def with_default_expiry(artifact: Artifact) -> Artifact:
    """The artifact with its type's default retention applied, unless it names an expires_at of its own."""
    if artifact.expires_at is not None:
        return artifact
    retention = retention_for(artifact.artifact_type)
    if retention is None:
        return artifact
    return dataclasses.replace(artifact, expires_at=artifact.created_at + retention)


async def purge_expired_artifacts(
    *, store: ArtifactStore | None = None, now: datetime | None = None, batch_size: int | None = None
) -> int:
    """Delete every expired artifact of `store` (the configured one by default), content included."""
    from artifacts.store import get_artifact_store

    store = store or get_artifact_store()
    purged = await store.purge_expired(now=now, batch_size=batch_size or settings.CONDUCTOR_PURGE_BATCH_SIZE)
    logger.info("Purged %d expired artifacts from %s.", purged, type(store).__name__)
    return purged
