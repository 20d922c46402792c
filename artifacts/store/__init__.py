"""The artifact store: the value object, the async interface and its backends."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from artifacts.store.artifact import (
    Artifact,
    ArtifactError,
    ArtifactExistsError,
    ArtifactsExistError,
    ContentIntegrityError,
    InvalidArtifactError,
    StoreUnavailableError,
    artifact_types,
    new_artifact_id,
)
from artifacts.store.base import ArtifactStore
from artifacts.store.content import ContentInfo, ContentPolicy, ContentStream
from artifacts.store.memory import InMemoryArtifactStore
from artifacts.store.orm import DjangoArtifactStore
from artifacts.store.redis_store import RedisArtifactStore


def get_artifact_store() -> ArtifactStore:
    """A store of the class the CONDUCTOR_ARTIFACT_STORE setting names (DjangoArtifactStore by default)."""
    store_class = import_string(settings.CONDUCTOR_ARTIFACT_STORE)
    return store_class()


__all__ = [
    "Artifact",
    "ArtifactError",
    "ArtifactExistsError",
    "ArtifactsExistError",
    "ArtifactStore",
    "ContentInfo",
    "ContentIntegrityError",
    "ContentPolicy",
    "ContentStream",
    "DjangoArtifactStore",
    "InMemoryArtifactStore",
    "InvalidArtifactError",
    "RedisArtifactStore",
    "StoreUnavailableError",
    "artifact_types",
    "get_artifact_store",
    "new_artifact_id",
]
