"""Contract of the artifact endpoints, over HTTP against uvicorn: statuses, bodies, and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from artifacts.models import ArtifactRecord
from tests.api.conftest import artifact_json
from tests.factories import make_artifact

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def stored(**fields) -> str:
    artifact = make_artifact(**fields)
    ArtifactRecord.from_artifact(artifact).save(force_insert=True)
    return artifact.artifact_id


def test_create_returns_201_and_the_artifact(api) -> None:
    response = api.post(
        "/api/artifacts", json=artifact_json(artifact_id="art-one", created_at="2026-03-01T10:00:00.123456+02:00")
    )
    assert response.status_code == 201
    body = response.json()
    assert body["artifact_id"] == "art-one"
    assert body["created_at"] == "2026-03-01T08:00:00.123456Z"
    assert body["content_url"] == "/api/artifacts/art-one/content"
    saved = ArtifactRecord.objects.get(pk="art-one")
    assert saved.content == "print('hi')\n" and saved.metadata == {"language": "python"}


def test_create_defaults_the_id(api) -> None:
    body = api.post("/api/artifacts", json=artifact_json()).json()
    assert body["artifact_id"].startswith("art-")


def test_create_with_an_existing_id_is_a_409(api) -> None:
    stored(artifact_id="art-taken", content="original")
    response = api.post("/api/artifacts", json=artifact_json(artifact_id="art-taken"))
    assert response.status_code == 409
    assert response.json()["artifact_ids"] == ["art-taken"]
    assert "write-once" in response.json()["detail"]
    assert ArtifactRecord.objects.get(pk="art-taken").content == "original"


@pytest.mark.parametrize(
    ("overrides", "loc", "words"),
    [
        ({"artifact_type": "poem"}, ["body", "payload", "artifact_type"], "known types are: code"),
        ({"workflow_id": ""}, ["body", "payload", "workflow_id"], "at least 1 character"),
        ({"task_id": 7}, ["body", "payload", "task_id"], "valid string"),
        ({"content": "a\x00b"}, ["body", "payload", "content"], "NUL"),
        ({"metadata": {"a": "\x00"}}, ["body", "payload"], "NUL"),
        ({"metadata": [1]}, ["body", "payload", "metadata"], "valid dictionary"),
        ({"created_at": "2026-01-01T00:00:00"}, ["body", "payload", "created_at"], "timezone"),
        ({"is_staff": True}, ["body", "payload", "is_staff"], "Extra inputs"),
    ],
)
def test_create_with_invalid_fields_is_a_422_saying_where(api, overrides, loc, words) -> None:
    response = api.post("/api/artifacts", json=artifact_json(**overrides))
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and words in e["msg"] for e in errors), errors
    assert ArtifactRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [(b"{not json", "not valid UTF-8 JSON"), (b"\xff\xfe", "not valid UTF-8 JSON"), (b"[1, 2]", "valid dictionary")],
)
def test_malformed_bodies_are_4xx_with_a_message(api, body: bytes, words: str) -> None:
    response = api.post("/api/artifacts", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in {400, 422}
    assert words in str(response.json()["detail"])


def test_a_body_over_the_limit_is_a_413(api, settings) -> None:
    settings.CONDUCTOR_API_MAX_BODY_BYTES = 1000
    response = api.post("/api/artifacts", json=artifact_json(content="x" * 2000))
    assert response.status_code == 413
    assert "over the limit of 1,000 bytes" in response.json()["detail"]


def test_a_chunked_body_over_the_limit_is_a_413(api, settings) -> None:
    settings.CONDUCTOR_API_MAX_BODY_BYTES = 1000
    response = api.post(
        "/api/artifacts",
        content=iter([b'{"content": "', b"x" * 2000, b'"}']),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_get_returns_the_artifact_with_content(api) -> None:
    artifact_id = stored(content="hello", metadata={"n": 1})
    body = api.get(f"/api/artifacts/{artifact_id}").json()
    assert body["content"] == "hello" and body["metadata"] == {"n": 1}


def test_get_and_list_show_original_and_stored_size(api, settings) -> None:
    settings.CONDUCTOR_COMPRESSION_MIN_BYTES = 1_000
    created = api.post("/api/artifacts", json=artifact_json(artifact_id="art-big", content="line of text\n" * 2_000))
    assert created.status_code == 201
    storage = api.get("/api/artifacts/art-big").json()["storage"]
    assert storage["original_size"] == 26_000
    assert storage["encoding"] == "zstd"
    assert 0 < storage["stored_size"] < 2_000
    assert len(storage["sha256"]) == 64
    listed = api.get("/api/artifacts").json()["items"][0]["storage"]
    assert listed == storage


@pytest.mark.parametrize("artifact_id", ["art-missing", "%00", "x" * 300])
def test_get_of_an_unknown_id_is_a_json_404(api, artifact_id: str) -> None:
    response = api.get(f"/api/artifacts/{artifact_id}")
    assert response.status_code == 404
    assert "No artifact with id" in response.json()["detail"]


def test_unknown_api_paths_are_json_404s(api) -> None:
    response = api.get("/api/no-such-thing/a/b")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"


def test_ids_holding_slashes_are_read_and_deleted_like_any_other(api, staff_api) -> None:
    body = api.post("/api/artifacts", json=artifact_json(artifact_id="wf-1/src/main.py")).json()
    assert body["content_url"] == "/api/artifacts/wf-1/src/main.py/content"
    assert api.get("/api/artifacts/wf-1/src/main.py").json()["artifact_id"] == "wf-1/src/main.py"
    assert api.get(body["content_url"]).text == "print('hi')\n"
    assert api.get("/api/artifacts/wf-1/src/nothing.py").status_code == 404
    assert staff_api.delete("/api/artifacts/wf-1/src/main.py").status_code == 204


def test_raw_content_streams_as_text_with_a_safe_filename(api) -> None:
    content = "é" * 100_000 + "\nend"
    artifact_id = stored(content=content, artifact_id='art-"évil" name;x')
    with api.stream("GET", f"/api/artifacts/{quote(artifact_id)}/content") as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.headers["Content-Disposition"] == 'attachment; filename="art-__vil__name_x.txt"'
        assert "content-length" not in response.headers  # streamed
        assert response.read().decode() == content


def test_raw_content_of_an_unknown_id_is_a_404(api) -> None:
    assert api.get("/api/artifacts/art-missing/content").status_code == 404


def test_list_filters_by_every_field(api) -> None:
    wanted = stored(workflow_id="wf-a", task_id="t-a", agent_id="tester", artifact_type="test", content="assert fib")
    stored(workflow_id="wf-a", task_id="t-b", agent_id="tester", artifact_type="test", content="assert fib")
    stored(workflow_id="wf-b", agent_id="coder", artifact_type="code", content="def fib")
    params = {"workflow_id": "wf-a", "task_id": "t-a", "agent_id": "tester", "artifact_type": "test", "q": "fib"}
    body = api.get("/api/artifacts", params=params).json()
    assert [row["artifact_id"] for row in body["items"]] == [wanted]
    assert "content" not in body["items"][0]


def test_list_filters_by_a_half_open_time_range(api) -> None:
    ids = [stored(created_at=T0 + timedelta(minutes=n)) for n in range(3)]
    params = {"since": (T0 + timedelta(minutes=1)).isoformat(), "until": (T0 + timedelta(minutes=2)).isoformat()}
    assert [r["artifact_id"] for r in api.get("/api/artifacts", params=params).json()["items"]] == [ids[1]]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": 501}, "less than or equal to 500"),
        ({"limit": 0}, "greater than or equal to 1"),
        ({"cursor": "garbage"}, "cursor is not valid"),
        ({"artifact_type": "poem"}, "known types are"),
        ({"since": "yesterday"}, "datetime"),
        ({"since": "2026-01-01T00:00:00"}, "timezone"),
        ({"workflow_id": "a\x00"}, "NUL"),
        ({"order": "sideways"}, "newest"),
    ],
)
def test_list_with_bad_parameters_is_a_422_with_a_message(api, params, words) -> None:
    response = api.get("/api/artifacts", params=params)
    assert response.status_code == 422
    assert words in str(response.json()["detail"])


@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_paging_neither_skips_nor_repeats_while_artifacts_arrive(api, order: str) -> None:
    first = [stored(created_at=T0 + timedelta(seconds=n)) for n in range(7)]
    # Ties on created_at are broken by id, so rows sharing a timestamp page correctly too.
    first += [stored(created_at=T0 + timedelta(seconds=3), artifact_id=f"art-tie-{n}") for n in range(3)]
    seen: list[str] = []
    params: dict = {"limit": 3, "order": order}
    for arrival in range(100):
        body = api.get("/api/artifacts", params=params).json()
        seen += [row["artifact_id"] for row in body["items"]]
        # New artifacts arrive between pages: later ones, and one at the very timestamp of the first rows.
        stored(created_at=T0 + timedelta(hours=1, seconds=arrival))
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    expected = sorted(first, key=lambda i: (ArtifactRecord.objects.get(pk=i).created_at, i), reverse=order == "newest")
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in set(first)] == expected


def test_the_types_endpoint_lists_the_configured_types(api, settings) -> None:
    settings.CONDUCTOR_ARTIFACT_TYPES = ["code", "poem"]
    assert api.get("/api/artifacts/types").json() == {"artifact_types": ["code", "poem"]}
    assert api.post("/api/artifacts", json=artifact_json(artifact_type="poem")).status_code == 201


def test_delete_of_an_unknown_id_is_a_404(staff_api) -> None:
    assert staff_api.delete("/api/artifacts/art-missing").status_code == 404


def test_the_content_url_of_an_id_with_a_slash_and_a_space_is_quoted_and_works(api) -> None:
    response = api.post("/api/artifacts", json=artifact_json(artifact_id="art/with slash"))
    assert response.status_code == 201
    assert response.json()["content_url"] == "/api/artifacts/art/with%20slash/content"
    assert api.get(response.json()["content_url"]).text == "print('hi')\n"
    assert api.get("/api/artifacts").status_code == 200
