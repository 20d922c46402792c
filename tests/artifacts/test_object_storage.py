"""Object storage against a real S3-compatible HTTP server: placement, faults, checksums, key safety."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from artifacts import compression
from artifacts.models import ArtifactRecord
from artifacts.object_storage import (
    PART_BYTES,
    ObjectMissingError,
    ObjectStorage,
    ObjectStorageError,
    UnsafeObjectKeyError,
    object_key,
)
from artifacts.store import (
    ArtifactExistsError,
    ContentIntegrityError,
    ContentPolicy,
    DjangoArtifactStore,
    StoreUnavailableError,
)
from tests.artifacts.conftest import free_port, s3_storage
from tests.artifacts.test_store_contract import call, read_stream
from tests.factories import make_artifact

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(object_storage: ObjectStorage) -> DjangoArtifactStore:
    return DjangoArtifactStore(
        policy=ContentPolicy(compress_min_bytes=1024, object_storage=object_storage, object_min_bytes=4096)
    )


def row(artifact_id: str) -> ArtifactRecord:
    return ArtifactRecord.all_objects.get(pk=artifact_id)


def test_content_above_the_threshold_goes_to_the_bucket_and_metadata_stays(store, bucket_keys) -> None:
    small = make_artifact(content="small")
    large = make_artifact(content="line of generated code\n" * 1000)
    call(store.save, small)
    call(store.save, large)
    assert row(small.artifact_id).content_location == "database"
    record = row(large.artifact_id)
    assert (record.content_location, record.content_encoding, record.content) == ("object_storage", "zstd", "")
    assert record.original_size == len(large.content) and record.stored_size < record.original_size
    assert bucket_keys() == [record.object_key]
    assert record.object_key.startswith(f"artifacts/{large.artifact_id}/")
    assert call(store.get, large.artifact_id) == large


def test_a_multipart_upload_round_trips(object_storage, bucket_keys) -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(object_storage=object_storage, object_min_bytes=0))
    content = "".join(f"{i:08x}\n" for i in range(PART_BYTES // 9 + 200_000))  # incompressible-ish, > 1 part
    artifact = make_artifact(content=content)
    call(store.save, artifact)
    assert row(artifact.artifact_id).stored_size == len(content) > PART_BYTES
    assert call(store.get, artifact.artifact_id) == artifact
    size, _, data = call(read_stream, store, artifact.artifact_id, 1 << 20)
    assert (size, data) == (len(content), content.encode())


def test_a_save_whose_upload_fails_leaves_no_row(s3_endpoint) -> None:
    unreachable = s3_storage(f"http://127.0.0.1:{free_port()}", connect_timeout=1, max_attempts=1)
    store = DjangoArtifactStore(policy=ContentPolicy(object_storage=unreachable, object_min_bytes=0))
    artifact = make_artifact()
    with pytest.raises(ObjectStorageError, match="Could not upload") as raised:
        call(store.save, artifact)
    assert isinstance(raised.value, StoreUnavailableError)
    assert not ArtifactRecord.all_objects.filter(pk=artifact.artifact_id).exists()


def test_a_missing_bucket_fails_the_save_cleanly(s3_endpoint) -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(object_storage=s3_storage(s3_endpoint), object_min_bytes=0))
    with pytest.raises(ObjectStorageError, match="NoSuchBucket"):
        call(store.save, make_artifact())
    assert ArtifactRecord.all_objects.count() == 0


def test_a_checksum_mismatch_on_read_is_a_clear_error(store, object_storage) -> None:
    artifact = make_artifact(content="x" * 10_000)
    call(store.save, artifact)
    record = row(artifact.artifact_id)
    tampered = "y" * 10_000
    object_storage.upload(record.object_key, [compression.compress(tampered.encode())])
    with pytest.raises(ContentIntegrityError, match="fails its checksum"):
        call(store.get, artifact.artifact_id)
    with pytest.raises(ContentIntegrityError, match="fails its checksum"):
        call(read_stream, store, artifact.artifact_id)


def test_damaged_bytes_in_the_bucket_are_a_checksum_error(object_storage) -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(object_storage=object_storage, object_min_bytes=0))
    artifact = make_artifact(content="exact text")
    call(store.save, artifact)
    object_storage.upload(row(artifact.artifact_id).object_key, [b"exact t\xffxt"])
    with pytest.raises(ContentIntegrityError, match="fails its checksum"):
        call(store.get, artifact.artifact_id)


def test_a_missing_object_is_reported_as_such(store, object_storage) -> None:
    artifact = make_artifact(content="z" * 10_000)
    call(store.save, artifact)
    object_storage.delete(row(artifact.artifact_id).object_key)
    with pytest.raises(ObjectMissingError, match="missing from bucket"):
        call(store.get, artifact.artifact_id)


def test_delete_removes_the_row_and_the_object(store, bucket_keys) -> None:
    artifact = make_artifact(content="q" * 10_000)
    call(store.save, artifact)
    assert len(bucket_keys()) == 1
    assert call(store.delete, artifact.artifact_id) is True
    assert bucket_keys() == []
    assert not ArtifactRecord.all_objects.filter(pk=artifact.artifact_id).exists()


def test_a_delete_the_bucket_refuses_keeps_the_row(store, object_storage) -> None:
    artifact = make_artifact(content="q" * 10_000)
    call(store.save, artifact)
    object_storage.bucket = "no-such-bucket-anywhere"
    with pytest.raises(ObjectStorageError):
        call(store.delete, artifact.artifact_id)
    assert ArtifactRecord.all_objects.filter(pk=artifact.artifact_id).exists()


def test_a_duplicate_id_neither_uploads_nor_touches_the_original(store, bucket_keys) -> None:
    original = make_artifact(content="o" * 10_000)
    call(store.save, original)
    with pytest.raises(ArtifactExistsError):
        call(store.save, make_artifact(artifact_id=original.artifact_id, content="r" * 10_000))
    assert len(bucket_keys()) == 1
    assert call(store.get, original.artifact_id) == original


@pytest.mark.django_db(transaction=True)
async def test_racing_saves_of_one_id_leave_one_row_and_one_object(store, bucket_keys) -> None:
    rivals = [make_artifact(artifact_id="art-race", content=f"{i}" * 10_000) for i in range(4)]
    results = await asyncio.gather(*(store.save(a) for a in rivals), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, ArtifactExistsError) for r in results if r is not None)
    assert await asyncio.to_thread(bucket_keys) == [
        await ArtifactRecord.all_objects.values_list("object_key", flat=True).aget(pk="art-race")
    ]


def test_purge_deletes_expired_objects_too(store, bucket_keys) -> None:
    expired = make_artifact(content="e" * 10_000, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    kept = make_artifact(content="k" * 10_000)
    call(store.save, expired)
    call(store.save, kept)
    assert len(bucket_keys()) == 2
    assert call(store.purge_expired) == 1
    assert bucket_keys() == [row(kept.artifact_id).object_key]


UNSAFE_IDS = [
    "../etc/passwd",
    "..\\windows\\system32",
    "/absolute",
    "\\\\server\\share",
    "..",
    ".",
    "a/../../b",
    "C:\\boot.ini",
    "c:secret",
    "%2e%2e%2fescape",
    "%2E%2E%5Cescape",
    "%252e%252e%252fescape",
    "..%2fescape",
    "%2fabsolute",
    "\uff0e\uff0e\uff0fescape",  # full-width ../, NFKC-normalises to ../
    "bad\x01control",
    "%00nul",
    "%c0%ae%c0%ae%c0%af",  # overlong UTF-8 for ../
]


@pytest.mark.parametrize("artifact_id", UNSAFE_IDS)
def test_object_keys_refuse_path_escapes(artifact_id: str) -> None:
    with pytest.raises(UnsafeObjectKeyError, match="cannot name an object in storage"):
        object_key(artifact_id, prefix="artifacts/")


@pytest.mark.parametrize(
    "artifact_id", ["art-3f2c0c8e-0d4b-4d0a-9b0e-0f9c1b2a3d4e", "report.v2", "100%", "a\u2215b", "…x"]
)
def test_safe_ids_stay_one_segment_under_the_prefix(artifact_id: str) -> None:
    key = object_key(artifact_id, prefix="artifacts/")
    prefix, encoded, token = key.split("/")
    assert (prefix, unquote(encoded), len(token)) == ("artifacts", artifact_id, 16)


def test_an_unsafe_id_is_refused_before_anything_is_stored(store, bucket_keys) -> None:
    with pytest.raises(UnsafeObjectKeyError):
        call(store.save, make_artifact(artifact_id="../../escape", content="s"))
    assert bucket_keys() == [] and ArtifactRecord.all_objects.count() == 0


@pytest.mark.parametrize("prefix", ["/abs/", "../up/", "a/../b/", "a\\b/"])
def test_the_key_prefix_itself_must_be_safe(prefix: str) -> None:
    with pytest.raises(ValueError, match="must be relative"):
        ObjectStorage(bucket="b", prefix=prefix)
