"""Large content kept in PostgreSQL as 1 MiB chunk rows: written and streamed back one row at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.postgres.search import SearchQuery
from django.db import connection

from artifacts import compression
from artifacts.models import ArtifactContentChunk, ArtifactRecord
from artifacts.store import ContentIntegrityError, ContentPolicy, DjangoArtifactStore, InvalidArtifactError
from artifacts.store.content import CHUNK_BYTES
from tests.factories import make_artifact

pytestmark = pytest.mark.django_db

# About 3.3 MiB of UTF-8 with 1-, 2-, 3- and 4-byte characters, so chunk edges fall inside characters.
LARGE = "".join(f"line {n}: naïve café — 日本語 🎉\n" for n in range(80_000))
ENCODINGS = {"plain": None, "zstd": 0}


def call(method, *args, **kwargs):
    return async_to_sync(method)(*args, **kwargs)


def chunk_rows(artifact_id: str) -> list[tuple[int, int]]:
    """(seq, bytes) of each chunk row, in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq, octet_length(data) FROM artifacts_content_chunk WHERE artifact_id = %s ORDER BY seq",
            [artifact_id],
        )
        return cursor.fetchall()


async def streamed(store: DjangoArtifactStore, artifact_id: str, chunk_size: int = CHUNK_BYTES) -> list[bytes]:
    stream = await store.open_content(artifact_id, chunk_size=chunk_size)
    assert stream is not None
    return [chunk async for chunk in stream.chunks]


async def byte_stream(data: bytes, *, piece: int = 300_000, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for start in range(0, len(data), piece):
        if fail_after is not None and start >= fail_after:
            raise RuntimeError("the client went away")
        yield data[start : start + piece]


@pytest.mark.parametrize("compress_min", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_large_content_is_stored_in_bounded_chunks_and_streams_back(compress_min: int | None) -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=compress_min))
    artifact = make_artifact(content=LARGE)
    call(store.save, artifact)

    record = ArtifactRecord.all_objects.get(pk=artifact.artifact_id)
    raw = LARGE.encode()
    encoding = compression.IDENTITY if compress_min is None else compression.ZSTD
    assert (record.content_location, record.content_encoding) == ("database_chunks", encoding)
    assert (record.content, record.content_blob, record.original_size) == ("", None, len(raw))
    rows = chunk_rows(artifact.artifact_id)
    assert [seq for seq, _ in rows] == list(range(len(rows)))
    assert all(size == CHUNK_BYTES for _, size in rows[:-1]) and 0 < rows[-1][1] <= CHUNK_BYTES
    assert sum(size for _, size in rows) == record.stored_size
    assert len(rows) == -(-record.stored_size // CHUNK_BYTES)

    chunks = call(streamed, store, artifact.artifact_id, 100_000)
    assert all(len(chunk) <= 100_000 for chunk in chunks) and len(chunks) >= len(raw) // 100_000
    assert b"".join(chunks) == raw
    assert call(store.get, artifact.artifact_id) == artifact
    # Full-text search still sees the start of it.
    hits = ArtifactRecord.objects.filter(search=SearchQuery("naïve", config="simple"))
    assert [r.artifact_id for r in hits] == [artifact.artifact_id]


def test_a_stream_is_chunked_as_it_arrives() -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=None))
    shell = make_artifact(content="")
    raw = LARGE.encode()
    call(store.save_stream, shell, byte_stream(raw))
    assert len(chunk_rows(shell.artifact_id)) == -(-len(raw) // CHUNK_BYTES)
    assert b"".join(call(streamed, store, shell.artifact_id)) == raw
    info = call(store.content_info, shell.artifact_id)
    assert (info.location, info.original_size, info.stored_size) == ("database_chunks", len(raw), len(raw))


def test_small_content_stays_in_the_row() -> None:
    store = DjangoArtifactStore()  # the default policy: chunks from 1 MiB
    small, blob = make_artifact(content="hello"), make_artifact(content="x" * 200_000)
    call(store.save_many, [small, blob])
    placed = dict(ArtifactRecord.all_objects.values_list("pk", "content_encoding"))
    assert placed == {small.artifact_id: "identity", blob.artifact_id: "zstd"}
    assert set(ArtifactRecord.all_objects.values_list("content_location", flat=True)) == {"database"}
    assert not ArtifactContentChunk.objects.exists()


def test_rows_saved_as_one_blob_before_chunks_still_read() -> None:
    artifact = make_artifact(content=LARGE)
    call(DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=0, chunk_min_bytes=None)).save, artifact)
    assert ArtifactRecord.all_objects.get(pk=artifact.artifact_id).content_location == "database"
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=0))
    assert call(store.get, artifact.artifact_id) == artifact
    assert b"".join(call(streamed, store, artifact.artifact_id)) == LARGE.encode()


def test_a_batch_can_hold_chunked_artifacts() -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=0))
    large, small = make_artifact(content=LARGE), make_artifact(content="small")
    call(store.save_many, [large, small])
    assert len(chunk_rows(large.artifact_id)) >= 1 and chunk_rows(small.artifact_id) == []
    assert call(store.get, large.artifact_id) == large and call(store.get, small.artifact_id) == small


@pytest.mark.parametrize(
    ("tail", "error"),
    [(b"\xff\xfe not UTF-8", InvalidArtifactError), (None, RuntimeError)],
    ids=["bad-utf8-at-the-end", "source-fails-midway"],
)
def test_a_failed_chunked_save_leaves_no_row_and_no_chunk(tail: bytes | None, error: type[Exception]) -> None:
    # Plain, so whole chunk rows are written before the failure (zstd would shrink 3 MiB below one).
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=None))
    shell = make_artifact(content="")
    raw = LARGE.encode()
    source = byte_stream(raw + tail) if tail else byte_stream(raw, fail_after=3 * CHUNK_BYTES)
    with pytest.raises(error):
        call(store.save_stream, shell, source)
    assert not ArtifactRecord.all_objects.filter(pk=shell.artifact_id).exists()
    assert not ArtifactContentChunk.objects.exists()


def test_a_taken_id_is_refused_before_any_chunk_is_written() -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=0))
    artifact = make_artifact(content=LARGE)
    call(store.save, artifact)
    before = chunk_rows(artifact.artifact_id)
    with pytest.raises(Exception, match="already exists"):
        call(store.save, dataclasses.replace(artifact, content=LARGE + "more"))
    assert chunk_rows(artifact.artifact_id) == before
    assert call(store.get, artifact.artifact_id) == artifact


def test_delete_purge_and_raw_sql_remove_the_chunks() -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=0))
    now = datetime.now(UTC)
    deleted, expired, raw_sql, kept = (make_artifact(content=LARGE) for _ in range(4))
    expired = dataclasses.replace(expired, expires_at=now - timedelta(seconds=1))
    for artifact in (deleted, expired, raw_sql, kept):
        call(store.save, artifact)
    assert call(store.delete, deleted.artifact_id)
    assert call(store.purge_expired, now=now) == 1
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM artifacts_artifact WHERE artifact_id = %s", [raw_sql.artifact_id])
    owners = set(ArtifactContentChunk.objects.values_list("artifact_id", flat=True))
    assert owners == {kept.artifact_id}


def test_a_damaged_chunk_fails_the_checksum_on_stream_and_get() -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=None))
    artifact = make_artifact(content=LARGE)
    call(store.save, artifact)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE artifacts_content_chunk SET data = overlay(data placing '\\x58'::bytea from 10)"
            " WHERE artifact_id = %s AND seq = 1",
            [artifact.artifact_id],
        )
    with pytest.raises(ContentIntegrityError, match="fails its checksum"):
        call(streamed, store, artifact.artifact_id)
    with pytest.raises(ContentIntegrityError, match="fails its checksum"):
        call(store.get, artifact.artifact_id)


@pytest.mark.parametrize("compress_min", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_missing_chunk_is_an_error_not_short_content(compress_min: int | None) -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=compress_min))
    artifact = make_artifact(content=LARGE * 2)
    call(store.save, artifact)
    last = chunk_rows(artifact.artifact_id)[-1][0]
    ArtifactContentChunk.objects.filter(artifact_id=artifact.artifact_id, seq=last).delete()
    with pytest.raises((ContentIntegrityError, compression.CompressionError)):
        call(streamed, store, artifact.artifact_id)


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
def test_the_raw_download_streams_chunked_content(viewer_client, settings) -> None:
    settings.CONDUCTOR_COMPRESSION_MIN_BYTES = 0
    artifact = make_artifact(content=LARGE)
    call(DjangoArtifactStore().save, artifact)
    assert ArtifactRecord.all_objects.get(pk=artifact.artifact_id).content_location == "database_chunks"
    response = viewer_client.get(f"/artifacts/{artifact.artifact_id}/raw")
    assert response["Content-Length"] == str(len(LARGE.encode()))
    assert b"".join(response).decode() == LARGE
    page = viewer_client.get(f"/artifacts/{artifact.artifact_id}/")
    assert page.status_code == 200
