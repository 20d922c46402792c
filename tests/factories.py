"""Test data factories: artifacts and users without hand-built rows in every test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from artifacts.store import Artifact

if TYPE_CHECKING:
    from artifacts.models import ArtifactRecord

_sequence = itertools.count()
_BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def make_artifact(**overrides: Any) -> Artifact:
    """An artifact with distinct, increasing created_at unless given."""
    n = next(_sequence)
    fields: dict[str, Any] = {
        "workflow_id": "wf-1",
        "task_id": f"task-{n}",
        "agent_id": "coder",
        "artifact_type": "code",
        "content": f"print({n})\n",
        "metadata": {"language": "python"},
        "created_at": _BASE_TIME + timedelta(seconds=n),
    }
    fields.update(overrides)
    return Artifact(**fields)


def store_artifact(**overrides: Any) -> ArtifactRecord:
    """An artifact saved straight to the database (the rollup triggers see it like any other write)."""
    from artifacts.models import ArtifactRecord

    record = ArtifactRecord.from_artifact(make_artifact(**overrides))
    record.save(force_insert=True)
    return record
