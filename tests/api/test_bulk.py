"""Bulk create: up to 1,000 artifacts, all or nothing."""

from __future__ import annotations

import pytest

from artifacts.models import ArtifactRecord
from tests.api.conftest import artifact_json

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_creates_a_thousand_in_one_request(api) -> None:
    batch = [artifact_json(artifact_id=f"art-{n:04}", task_id=f"t-{n}") for n in range(1000)]
    response = api.post("/api/artifacts/bulk", json={"artifacts": batch})
    assert response.status_code == 201
    assert response.json()["created"] == 1000
    assert response.json()["artifact_ids"][:2] == ["art-0000", "art-0001"]
    assert ArtifactRecord.objects.count() == 1000


def test_more_than_a_thousand_is_a_422(api) -> None:
    response = api.post("/api/artifacts/bulk", json={"artifacts": [artifact_json()] * 1001})
    assert response.status_code == 422
    assert "at most 1000 items" in str(response.json()["detail"])
    assert ArtifactRecord.objects.count() == 0


def test_an_empty_batch_is_a_422(api) -> None:
    assert api.post("/api/artifacts/bulk", json={"artifacts": []}).status_code == 422


def test_existing_ids_are_a_409_listing_them_and_nothing_is_saved(api) -> None:
    api.post("/api/artifacts", json=artifact_json(artifact_id="art-a"))
    api.post("/api/artifacts", json=artifact_json(artifact_id="art-c"))
    batch = [artifact_json(artifact_id=i) for i in ("art-a", "art-b", "art-c", "art-d")]
    response = api.post("/api/artifacts/bulk", json={"artifacts": batch})
    assert response.status_code == 409
    assert response.json()["artifact_ids"] == ["art-a", "art-c"]
    assert sorted(ArtifactRecord.objects.values_list("pk", flat=True)) == ["art-a", "art-c"]


def test_invalid_items_are_a_422_with_per_item_field_errors(api) -> None:
    batch = [
        artifact_json(),
        artifact_json(artifact_type="poem"),
        artifact_json(),
        artifact_json(agent_id=None, extra="x"),
    ]
    response = api.post("/api/artifacts/bulk", json={"artifacts": batch})
    assert response.status_code == 422
    locs = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert locs == {
        ("body", "payload", "artifacts", 1, "artifact_type"),
        ("body", "payload", "artifacts", 3, "agent_id"),
        ("body", "payload", "artifacts", 3, "extra"),
    }
    assert ArtifactRecord.objects.count() == 0


def test_an_id_repeated_within_the_request_is_a_422(api) -> None:
    batch = [artifact_json(artifact_id="art-twin"), artifact_json(artifact_id="art-twin")]
    response = api.post("/api/artifacts/bulk", json={"artifacts": batch})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "artifacts", 1, "artifact_id"]
    assert ArtifactRecord.objects.count() == 0


def test_unknown_top_level_fields_are_refused(api) -> None:
    response = api.post("/api/artifacts/bulk", json={"artifacts": [artifact_json()], "upsert": True})
    assert response.status_code == 422
