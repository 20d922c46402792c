"""The `Artifact` value object: one work product of an agent. Needs no database."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_ARTIFACT_TYPES = ("code", "test", "test_data", "review", "config", "deployment", "monitoring_report")
MAX_ID_LENGTH = 200
# Metadata is a small JSON object describing the content, not a second content field: bounded in depth
# (deeper values could exhaust the stack of any recursive JSON code) and in size (a setting).
MAX_METADATA_DEPTH = 64
DEFAULT_MAX_METADATA_BYTES = 256 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class ArtifactError(Exception):
    """Base class for artifact store errors."""


class InvalidArtifactError(ArtifactError, ValueError):
    """An artifact (or a query about artifacts) is malformed; the message says what is allowed."""


class ArtifactExistsError(ArtifactError):
    """An artifact with this id is already stored; artifacts are write-once."""

    def __init__(self, artifact_id: str) -> None:
        super().__init__(f"An artifact with id {artifact_id!r} already exists; artifacts are write-once.")
        self.artifact_id = artifact_id


class StoreUnavailableError(ArtifactError):
    """A service the store depends on (Redis, object storage) could not be reached or refused the call."""


class ContentIntegrityError(ArtifactError):
    """Stored content no longer matches the SHA-256 recorded when it was saved."""


def artifact_types() -> tuple[str, ...]:
    """The known artifact types: the CONDUCTOR_ARTIFACT_TYPES setting, or the seed's seven."""
    from django.conf import settings

    if settings.configured:
        return tuple(getattr(settings, "CONDUCTOR_ARTIFACT_TYPES", DEFAULT_ARTIFACT_TYPES))
    return DEFAULT_ARTIFACT_TYPES


def max_metadata_bytes() -> int:
    """The largest metadata, in bytes of JSON: the CONDUCTOR_ARTIFACT_MAX_METADATA_BYTES setting, or 256 KiB."""
    from django.conf import settings

    if settings.configured:
        return getattr(settings, "CONDUCTOR_ARTIFACT_MAX_METADATA_BYTES", DEFAULT_MAX_METADATA_BYTES)
    return DEFAULT_MAX_METADATA_BYTES


def new_artifact_id() -> str:
    return f"art-{uuid.uuid4()}"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Artifact:
    """An agent's work product. Validated on construction, so a stored artifact is always well formed."""

    workflow_id: str
    task_id: str
    agent_id: str
    artifact_type: str
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    artifact_id: str = field(default_factory=new_artifact_id)
    created_at: datetime = field(default_factory=_now)
    # None: kept until deleted (or until the type's default retention, applied by the store on save).
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("artifact_id", "workflow_id", "task_id", "agent_id"):
            validate_id(name, getattr(self, name))
        validate_artifact_type(self.artifact_type)
        if not isinstance(self.content, str):
            raise InvalidArtifactError(f"content must be a string, not {type(self.content).__name__}.")
        if "\x00" in self.content:
            raise InvalidArtifactError("content must not contain NUL characters (PostgreSQL text cannot hold them).")
        if not self.content.isascii() and _SURROGATE.search(self.content):
            raise InvalidArtifactError(
                "content must be valid Unicode: it contains a lone surrogate, which UTF-8 cannot hold."
            )
        if not isinstance(self.metadata, dict):
            raise InvalidArtifactError(f"metadata must be a dict, not {type(self.metadata).__name__}.")
        _validate_storable_json(self.metadata)
        try:
            encoded = json.dumps(self.metadata, allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise InvalidArtifactError(f"metadata must be JSON-serialisable: {exc}.") from None
        limit = max_metadata_bytes()
        if len(encoded) > limit // 4 and (size := len(encoded.encode())) > limit:
            raise InvalidArtifactError(
                f"metadata is {size:,} bytes as JSON; at most {limit:,} bytes are allowed. "
                "Put large data in the content, or in an artifact of its own."
            )
        if not isinstance(self.created_at, datetime) or self.created_at.tzinfo is None:
            raise InvalidArtifactError("created_at must be a timezone-aware datetime (UTC), not a naive one.")
        if self.created_at.utcoffset() != UTC.utcoffset(None):
            object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))
        if self.expires_at is not None:
            if not isinstance(self.expires_at, datetime) or self.expires_at.tzinfo is None:
                raise InvalidArtifactError("expires_at must be a timezone-aware datetime (UTC) or None.")
            if self.expires_at.utcoffset() != UTC.utcoffset(None):
                object.__setattr__(self, "expires_at", self.expires_at.astimezone(UTC))

    @property
    def lineage_name(self) -> str | None:
        """The metadata `name` (e.g. a file path) that ties versions of one logical artifact together."""
        name = self.metadata.get("name")
        return name if isinstance(name, str) and name else None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or _now())


def validate_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArtifactError(f"{name} must be a non-empty string.")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArtifactError(f"{name} must be at most {MAX_ID_LENGTH} characters, not {len(value)}.")
    validate_storable_text(name, value)
    # Ids end up in URLs, headers, file names and log lines, where a line break or escape does harm.
    if _CONTROL.search(value):
        raise InvalidArtifactError(f"{name} must not contain control characters (line breaks, tabs, escapes).")


def validate_artifact_type(value: object) -> None:
    known = artifact_types()
    if value not in known:
        raise InvalidArtifactError(f"Unknown artifact type {value!r}; known types are: {', '.join(known)}.")


def validate_storable_text(name: str, value: str) -> None:
    """PostgreSQL text and jsonb hold neither NUL characters nor lone UTF-16 surrogates."""
    if "\x00" in value:
        raise InvalidArtifactError(f"{name} must not contain NUL characters (PostgreSQL text cannot hold them).")
    if not value.isascii() and _SURROGATE.search(value):
        raise InvalidArtifactError(
            f"{name} must be valid Unicode: it contains a lone surrogate, which UTF-8 cannot hold."
        )


def _validate_storable_json(value: object) -> None:
    """Every string in `value` is storable, and it nests at most MAX_METADATA_DEPTH levels.

    Iterative, not recursive: a hostile value nested 10,000 deep must be refused, not crash the stack.
    """
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            validate_storable_text("metadata", item)
        elif isinstance(item, dict | list | tuple):
            if depth > MAX_METADATA_DEPTH:
                raise InvalidArtifactError(
                    f"metadata nests more than {MAX_METADATA_DEPTH} levels of objects and lists; "
                    f"at most {MAX_METADATA_DEPTH} levels are allowed."
                )
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
                pending.extend((child, depth + 1) for child in item.values())
            else:
                pending.extend((child, depth + 1) for child in item)


class ArtifactsExistError(ArtifactExistsError):
    """Some artifacts of a batch are already stored; the batch was not saved."""

    def __init__(self, artifact_ids: list[str]) -> None:
        listed = ", ".join(artifact_ids)
        Exception.__init__(self, f"These artifact ids already exist (artifacts are write-once): {listed}")
        self.artifact_id = artifact_ids[0]
        self.artifact_ids = artifact_ids
