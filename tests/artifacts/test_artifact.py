from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from artifacts.store import Artifact, InvalidArtifactError
from tests.factories import make_artifact


def test_it_defaults_id_and_timestamp() -> None:
    artifact = Artifact(workflow_id="wf", task_id="t", agent_id="a", artifact_type="code", content="x")
    assert artifact.artifact_id.startswith("art-") and len(artifact.artifact_id) == 40
    assert artifact.created_at.tzinfo is not None
    assert artifact.metadata == {}


@pytest.mark.parametrize("field", ["artifact_id", "workflow_id", "task_id", "agent_id"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_it_rejects_empty_ids(field: str, value: object) -> None:
    with pytest.raises(InvalidArtifactError, match=f"{field} must be a non-empty string"):
        make_artifact(**{field: value})


def test_it_rejects_unknown_types_listing_the_known_ones() -> None:
    with pytest.raises(InvalidArtifactError) as info:
        make_artifact(artifact_type="poem")
    assert "'poem'" in str(info.value)
    assert "code, test, test_data, review, config, deployment, monitoring_report" in str(info.value)


def test_types_come_from_settings(settings) -> None:
    settings.CONDUCTOR_ARTIFACT_TYPES = [*settings.CONDUCTOR_ARTIFACT_TYPES, "poem"]
    assert make_artifact(artifact_type="poem").artifact_type == "poem"


def test_it_rejects_non_json_metadata() -> None:
    with pytest.raises(InvalidArtifactError, match="metadata must be JSON-serialisable"):
        make_artifact(metadata={"when": datetime.now(UTC)})
    with pytest.raises(InvalidArtifactError, match="metadata must be JSON-serialisable"):
        make_artifact(metadata={"x": float("nan")})
    with pytest.raises(InvalidArtifactError, match="metadata must be a dict"):
        make_artifact(metadata=["a"])


def test_it_rejects_naive_datetimes() -> None:
    with pytest.raises(InvalidArtifactError, match="timezone-aware"):
        make_artifact(created_at=datetime(2026, 1, 1))


def test_it_normalises_aware_datetimes_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    artifact = make_artifact(created_at=datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert artifact.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert artifact.created_at.utcoffset() == timedelta(0)


def test_it_rejects_nul_in_content_and_non_string_content() -> None:
    with pytest.raises(InvalidArtifactError, match="NUL"):
        make_artifact(content="a\x00b")
    with pytest.raises(InvalidArtifactError, match="content must be a string"):
        make_artifact(content=b"bytes")


@pytest.mark.parametrize(
    "fields",
    [
        {"content": "lone \ud800 surrogate"},
        {"metadata": {"note": "a\x00b"}},
        {"metadata": {"a\x00": 1}},
        {"metadata": {"note": "\udfff"}},
        {"agent_id": "coder\ud800"},
    ],
)
def test_it_rejects_text_postgres_cannot_store(fields: dict) -> None:
    with pytest.raises(InvalidArtifactError, match="NUL|surrogate"):
        make_artifact(**fields)


def test_it_is_immutable() -> None:
    artifact = make_artifact()
    with pytest.raises(AttributeError):
        artifact.content = "changed"  # type: ignore[misc]


def test_it_rejects_lone_surrogates_which_utf8_cannot_hold() -> None:
    with pytest.raises(InvalidArtifactError, match="lone surrogate"):
        make_artifact(content="ok \ud800 not ok")


def test_expiry_is_optional_aware_and_normalised_to_utc() -> None:
    assert make_artifact().expires_at is None
    plus_two = timezone(timedelta(hours=2))
    artifact = make_artifact(expires_at=datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert artifact.expires_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert artifact.is_expired(now=datetime(2026, 1, 1, 10, tzinfo=UTC))
    assert not artifact.is_expired(now=datetime(2026, 1, 1, 9, tzinfo=UTC))
    with pytest.raises(InvalidArtifactError, match="expires_at must be a timezone-aware"):
        make_artifact(expires_at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("metadata", "name"), [({"name": "src/app.py"}, "src/app.py"), ({}, None), ({"name": 3}, None)]
)
def test_the_lineage_name_is_a_non_empty_string_name(metadata: dict, name: str | None) -> None:
    assert make_artifact(metadata=metadata).lineage_name == name
