"""Read queries over stored artifacts, shared by the dashboard and the JSON API.

Lists are keyset-paged by (created_at, artifact_id) with an opaque cursor, never by OFFSET.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.search import SearchQuery
from django.db.models import Q

from artifacts.models import ArtifactRecord
from artifacts.store.artifact import InvalidArtifactError, validate_artifact_type, validate_storable_text

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class ArtifactFilters:
    """Every filter the artifact list offers; None means "any"."""

    workflow_id: str | None = None
    task_id: str | None = None
    agent_id: str | None = None
    artifact_type: str | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.artifact_type is not None:
            validate_artifact_type(self.artifact_type)
        for name in ("workflow_id", "task_id", "agent_id", "q"):
            if (value := getattr(self, name)) is not None:
                validate_storable_text(name, value)
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidArtifactError(f"{name} must be a timezone-aware datetime.")

    def as_q(self) -> Q:
        where = Q()
        for name in ("workflow_id", "task_id", "agent_id", "artifact_type"):
            if (value := getattr(self, name)) is not None:
                where &= Q(**{name: value})
        if self.since is not None:
            where &= Q(created_at__gte=self.since)
        if self.until is not None:
            where &= Q(created_at__lt=self.until)
        if self.q and self.q.strip():
            where &= Q(search=SearchQuery(self.q.strip(), config="simple", search_type="websearch"))
        return where


@dataclass(frozen=True, slots=True)
class ArtifactPage:
    rows: list[ArtifactRecord]
    next_cursor: str | None


def encode_cursor(record: ArtifactRecord) -> str:
    raw = f"{record.created_at.isoformat()}|{record.artifact_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, artifact_id) a cursor stands for; a malformed cursor is an InvalidArtifactError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, artifact_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(created)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArtifactError("cursor is not valid; pass next_cursor from the previous page unchanged.") from None
    if created_at.tzinfo is None or not artifact_id:
        raise InvalidArtifactError("cursor is not valid; pass next_cursor from the previous page unchanged.")
    return created_at, artifact_id


def artifact_page(
    *,
    filters: ArtifactFilters,
    limit: int = 50,
    cursor: str | None = None,
    newest_first: bool = True,
    with_content: bool = False,
) -> ArtifactPage:
    """One page of artifacts matching `filters`, and the cursor of the next page (None on the last)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidArtifactError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}.")
    rows = ArtifactRecord.objects.filter(filters.as_q())
    if not with_content:
        rows = rows.defer("content")
    if cursor is not None:
        created_at, artifact_id = decode_cursor(cursor)
        if newest_first:
            after = Q(created_at__lt=created_at) | Q(created_at=created_at, artifact_id__lt=artifact_id)
        else:
            after = Q(created_at__gt=created_at) | Q(created_at=created_at, artifact_id__gt=artifact_id)
        rows = rows.filter(after)
    order = ("-created_at", "-artifact_id") if newest_first else ("created_at", "artifact_id")
    found = list(rows.order_by(*order)[: limit + 1])
    next_cursor = encode_cursor(found[limit - 1]) if len(found) > limit else None
    return ArtifactPage(rows=found[:limit], next_cursor=next_cursor)
