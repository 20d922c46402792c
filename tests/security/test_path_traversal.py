"""Path traversal in whatever names a file or an object key: artifact ids in the API, the store, the
bucket and the download filename. An escape is refused (with object storage on) or stays a plain string
(a database key, a sanitised filename); it never reaches a path."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync

from artifacts.models import ArtifactRecord
from artifacts.object_storage import UnsafeObjectKeyError
from artifacts.store import ContentPolicy, DjangoArtifactStore
from tests.api.conftest import artifact_json
from tests.artifacts.conftest import s3_storage
from tests.factories import make_artifact, store_artifact

pytestmark = pytest.mark.django_db(transaction=True)

TRAVERSALS = [
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "%2e%2e%2fetc%2fpasswd",
    "%2E%2E%5Cwin.ini",
    "%252e%252e%252fetc%252fpasswd",  # double-encoded
    "..%c0%af..%c0%afetc",  # overlong UTF-8 slash
    "/etc/passwd",
    "C:\\boot.ini",
    "..",
    "art-1/../../../x",
    "\uff0e\uff0e\uff0fetc",  # full-width ../
]
SAFE_FILENAME = re.compile(r'^attachment; filename="[A-Za-z0-9._-]+\.txt"$')


@pytest.fixture
def bucket(s3_endpoint, settings):
    """Object storage on for every save, through the settings the server reads."""
    storage = s3_storage(s3_endpoint)
    storage.create_bucket()
    settings.CONDUCTOR_S3_BUCKET = storage.bucket
    settings.CONDUCTOR_S3_ENDPOINT_URL = s3_endpoint
    settings.CONDUCTOR_S3_ACCESS_KEY_ID = "testing"
    settings.CONDUCTOR_S3_SECRET_ACCESS_KEY = "testing"
    settings.CONDUCTOR_OBJECT_STORAGE_MIN_BYTES = 0

    def keys() -> list[str]:
        listed = storage._client.list_objects_v2(Bucket=storage.bucket)
        return [item["Key"] for item in listed.get("Contents", [])]

    return keys


@pytest.mark.parametrize("artifact_id", TRAVERSALS)
def test_the_api_refuses_an_escaping_id_with_object_storage_on(api, bucket, artifact_id: str) -> None:
    response = api.post("/api/artifacts", json=artifact_json(artifact_id=artifact_id))
    assert response.status_code == 422, response.text
    assert "cannot name an object in storage" in response.json()["detail"]
    assert ArtifactRecord.all_objects.count() == 0
    assert bucket() == []


def test_one_escaping_id_fails_the_whole_bulk_request(api, bucket) -> None:
    items = [artifact_json(artifact_id="art-fine"), artifact_json(artifact_id="../../escape")]
    response = api.post("/api/artifacts/bulk", json={"artifacts": items})
    assert response.status_code == 422
    assert ArtifactRecord.all_objects.count() == 0
    assert bucket() == []


def test_a_safe_id_lands_under_the_prefix_as_one_segment(api, bucket) -> None:
    assert api.post("/api/artifacts", json=artifact_json(artifact_id="art-ok.v2")).status_code == 201
    [key] = bucket()
    assert re.fullmatch(r"artifacts/art-ok\.v2/[0-9a-f]{16}", key)


@pytest.mark.parametrize("artifact_id", TRAVERSALS)
def test_the_store_refuses_an_escaping_id(s3_endpoint, artifact_id: str) -> None:
    storage = s3_storage(s3_endpoint)
    storage.create_bucket()
    store = DjangoArtifactStore(policy=ContentPolicy(object_storage=storage, object_min_bytes=0))
    with pytest.raises(UnsafeObjectKeyError):
        async_to_sync(store.save)(make_artifact(artifact_id=artifact_id))
    with pytest.raises(UnsafeObjectKeyError):
        async_to_sync(store.save_many)([make_artifact(), make_artifact(artifact_id=artifact_id)])
    assert ArtifactRecord.all_objects.count() == 0
    assert "Contents" not in storage._client.list_objects_v2(Bucket=storage.bucket)


@pytest.mark.parametrize(
    "path",
    [
        "/api/artifacts/..%2F..%2Fetc%2Fpasswd",
        "/api/artifacts/..%2F..%2Fetc%2Fpasswd/content",
        "/api/artifacts/%252e%252e%252fetc/content",
        "/api/artifacts/%2Fetc%2Fpasswd/content",
        "/api/artifacts/..%5C..%5Cwin.ini/content",
    ],
)
def test_reading_an_escaping_id_is_a_json_404(api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert "root:" not in response.text


@pytest.mark.parametrize(
    "artifact_id", [*TRAVERSALS, 'a"; filename="evil.html', "..\u202etxt.exe", "\u00e9t\u00e9/../x", "...."]
)
def test_the_api_download_filename_is_one_safe_name(api, artifact_id: str) -> None:
    store_artifact(artifact_id=artifact_id, content="body")  # object storage off: an id is just a key
    response = api.get(f"/api/artifacts/{quote(artifact_id, safe='').replace('.', '%2E')}/content")
    assert response.status_code == 200
    assert response.text == "body"
    disposition = response.headers["Content-Disposition"]
    assert SAFE_FILENAME.match(disposition), disposition
    assert ".." not in disposition.split("filename=")[1].removesuffix('.txt"')


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
@pytest.mark.parametrize("artifact_id", [*TRAVERSALS, 'a"; filename="evil.html', "..\u202etxt.exe", "...."])
def test_the_dashboard_download_filename_is_one_safe_name(viewer_client, artifact_id: str) -> None:
    store_artifact(artifact_id=artifact_id, content="body")
    response = viewer_client.get(f"/artifacts/{quote(artifact_id, safe='/')}/raw")
    assert response.status_code == 200
    assert b"".join(response) == b"body"
    assert SAFE_FILENAME.match(response["Content-Disposition"]), response["Content-Disposition"]


@pytest.mark.parametrize(
    "path",
    ["/artifacts/..%2F..%2Fetc%2Fpasswd/raw", "/artifacts/%2Fetc%2Fpasswd/", "/artifacts/..%5Cwin.ini/delete"],
)
def test_the_dashboard_answers_an_escaping_id_with_a_404(staff_client, path: str) -> None:
    assert staff_client.get(path).status_code == 404
