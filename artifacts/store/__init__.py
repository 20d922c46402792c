"""The artifact store: the value object, the async interface and its backends."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from artifacts.store.artifact import (
    Artifact,
    ArtifactError,
    ArtifactExistsError,
    ArtifactsExistError,
    InvalidArtifactError,
    artifact_types,
    new_artifact_id,
)
from artifacts.store.base import ArtifactStore
from artifacts.store.memory import InMemoryArtifactStore
from artifacts.store.orm import DjangoArtifactStore


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
    "DjangoArtifactStore",
    "InMemoryArtifactStore",
    "InvalidArtifactError",
    "artifact_types",
    "get_artifact_store",
    "new_artifact_id",
]
