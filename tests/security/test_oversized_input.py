"""Bodies and values too big or too strange to store: a clean 4xx that says the limit, and nothing stored."""

from __future__ import annotations

import json

import pytest

from artifacts.models import ArtifactRecord
from tests.api.conftest import artifact_json

pytestmark = pytest.mark.django_db(transaction=True)


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def with_nested_metadata(depth: int) -> str:
    """An artifact's JSON with metadata `depth` + 1 objects deep, written out (json.dumps would recurse)."""
    body = json.dumps(artifact_json(metadata={}))
    return body.replace('"metadata": {}', '"metadata": ' + '{"a": ' * depth + "{}" + "}" * depth)


def post_raw(api, body: bytes):
    return api.post("/api/artifacts", content=body, headers={"Content-Type": "application/json"})


def test_a_body_over_the_limit_is_a_413_before_it_is_parsed(api, settings) -> None:
    settings.CONDUCTOR_API_MAX_BODY_BYTES = 10_000
    response = post_raw(api, b"[" * 20_000)
    assert response.status_code == 413
    assert "over the limit of 10,000 bytes" in response.json()["detail"]
    assert ArtifactRecord.objects.count() == 0


def test_a_bulk_body_over_the_limit_is_a_413(api, settings) -> None:
    settings.CONDUCTOR_API_MAX_BODY_BYTES = 10_000
    items = [artifact_json(content="x" * 1000) for _ in range(20)]
    response = api.post("/api/artifacts/bulk", json={"artifacts": items})
    assert response.status_code == 413
    assert ArtifactRecord.objects.count() == 0


@pytest.mark.parametrize("depth", [64, 1_000, 10_000])
def test_deeply_nested_metadata_is_a_422_naming_the_maximum_depth(api, depth: int) -> None:
    response = post_raw(api, with_nested_metadata(depth).encode())
    assert response.status_code in {400, 422}, response.text
    assert "64 levels" in response.text
    assert ArtifactRecord.objects.count() == 0


def test_deeply_nested_metadata_in_a_bulk_request_is_refused(api) -> None:
    body = '{"artifacts": [' + json.dumps(artifact_json()) + ", " + with_nested_metadata(10_000) + "]}"
    response = api.post("/api/artifacts/bulk", content=body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code in {400, 422}, response.text
    assert "64 levels" in response.text
    assert ArtifactRecord.objects.count() == 0


def test_a_deeply_nested_body_outside_metadata_is_a_4xx(api) -> None:
    response = post_raw(api, b'{"content": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")
    assert 400 <= response.status_code < 500, response.text
    assert ArtifactRecord.objects.count() == 0


def test_metadata_of_64_levels_is_accepted(api) -> None:
    response = api.post("/api/artifacts", json=artifact_json(metadata=nested(63)))
    assert response.status_code == 201, response.text


def test_ten_megabytes_of_metadata_is_a_422_naming_the_limit(api) -> None:
    response = api.post("/api/artifacts", json=artifact_json(metadata={"blob": "x" * 10_000_000}))
    assert response.status_code == 422
    assert "262,144 bytes" in response.text
    assert ArtifactRecord.objects.count() == 0


def test_the_metadata_limit_is_a_setting(api, settings) -> None:
    settings.CONDUCTOR_ARTIFACT_MAX_METADATA_BYTES = 100
    assert api.post("/api/artifacts", json=artifact_json(metadata={"k": "x" * 200})).status_code == 422
    assert api.post("/api/artifacts", json=artifact_json(metadata={"k": "x" * 20})).status_code == 201
    assert ArtifactRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content", "a\x00b"),
        ("workflow_id", "wf\x00"),
        ("artifact_id", "art-\x00"),
        ("metadata", {"k\x00": "v"}),
        ("metadata", {"k": ["\x00"]}),
    ],
)
def test_nul_characters_anywhere_are_a_422(api, field: str, value) -> None:
    response = api.post("/api/artifacts", json=artifact_json(**{field: value}))
    assert response.status_code == 422
    assert "NUL" in response.text
    assert ArtifactRecord.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"workflow_id": "wf-1", "task_id": "t", "agent_id": "a", "artifact_type": "code", "content": "\xff\xfe"}',
        b'{"workflow_id": "wf-1", "task_id": "t", "agent_id": "a", "artifact_type": "code", "content": "\xc3"}',
        b'{"workflow_id": "wf-1", "task_id": "t", "agent_id": "a", "artifact_type": "code", "content": "\xed\xa0\x80"}',
    ],
)
def test_invalid_utf8_in_the_body_is_a_400(api, body: bytes) -> None:
    response = post_raw(api, body)
    assert response.status_code == 400
    assert "not valid UTF-8 JSON" in response.json()["detail"]
    assert ArtifactRecord.objects.count() == 0


def test_a_lone_surrogate_escape_is_a_422(api) -> None:
    body = json.dumps(artifact_json()).replace('"print', '"\\ud800print')
    response = post_raw(api, body.encode())
    assert response.status_code == 422
    assert "surrogate" in response.text
    assert ArtifactRecord.objects.count() == 0


def test_an_overlong_search_is_refused_not_run(api) -> None:
    response = api.get("/api/artifacts", params={"q": "word " * 2_000})
    assert response.status_code == 422
    assert "500" in response.text


def test_an_overlong_filter_is_refused(api) -> None:
    response = api.get("/api/artifacts", params={"workflow_id": "w" * 5_000})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("artifact_id", "art\r\nSet-Cookie: a=b"),
        ("workflow_id", "wf\x1b[31m"),
        ("agent_id", "a\tb"),
        ("task_id", "t\x85"),
    ],
)
def test_control_characters_in_ids_are_a_422(api, field: str, value: str) -> None:
    response = api.post("/api/artifacts", json=artifact_json(**{field: value}))
    assert response.status_code == 422
    assert "control characters" in response.text
    assert ArtifactRecord.objects.count() == 0
