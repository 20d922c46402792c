"""The default backend: metadata in PostgreSQL through the Django ORM, content in the row (plain or
zstd-compressed), as a sequence of 1 MiB chunk rows (large content), or, above a size threshold, in
S3-compatible object storage.

Saving large content never holds it whole: it flows in chunks through hashing, compression and a
multipart upload or one chunk row at a time; reading it back streams the same way. A failed upload
leaves no row; a failed insert deletes its upload; a failed chunked save rolls back every chunk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet

from artifacts import compression
from artifacts.expiry import with_default_expiry
from artifacts.object_storage import ObjectStorage, check_object_key_safe
from artifacts.store.artifact import (
    Artifact,
    ArtifactExistsError,
    ArtifactsExistError,
    StoreUnavailableError,
    validate_artifact_type,
)
from artifacts.store.base import (
    DEFAULT_PURGE_BATCH_SIZE,
    ArtifactStore,
    check_batch,
    check_limit,
    check_streamed,
    unknown_cursor,
)
from artifacts.store.content import (
    CHUNK_BYTES,
    DATABASE_CHUNKS,
    OBJECT_STORAGE,
    SEARCH_PREFIX_CHARS,
    ContentInfo,
    ContentPolicy,
    ContentStream,
    Meter,
    blocking_iterator,
    fixed_chunks,
    iterate_in_thread,
    read_text,
    rechunk,
    text_chunks,
    verified_chunks,
)

if TYPE_CHECKING:
    from artifacts.models import ArtifactRecord

# Columns a list or a download needs; the search columns stay in the database.
_DESCRIPTION = ["content_location", "content_encoding", "object_key", "original_size", "stored_size", "sha256"]


class DjangoArtifactStore(ArtifactStore):
    def __init__(self, *, policy: ContentPolicy | None = None) -> None:
        """`policy` decides compression and object storage; by default, the CONDUCTOR_* settings."""
        self.policy = policy if policy is not None else ContentPolicy.from_settings()

    async def save(self, artifact: Artifact) -> None:
        artifact = with_default_expiry(artifact)
        await self._save(artifact, lambda: text_chunks(artifact.content), text=artifact.content)

    async def save_stream(self, artifact: Artifact, chunks: AsyncIterable[bytes]) -> None:
        check_streamed(artifact)
        artifact = with_default_expiry(artifact)
        loop = asyncio.get_running_loop()
        await self._save(artifact, lambda: blocking_iterator(chunks, loop), text=None)

    async def save_many(self, artifacts: Sequence[Artifact]) -> None:
        """One transaction and one INSERT for the batch, each artifact's content placed as `save` would."""
        check_batch(artifacts)
        artifacts = [with_default_expiry(a) for a in artifacts]
        if self.policy.object_storage is not None:
            for artifact in artifacts:
                check_object_key_safe(artifact.artifact_id)
        placed = await asyncio.to_thread(self._place_many, artifacts)
        try:
            await sync_to_async(_insert_many)(placed)
        except BaseException:
            for record, _ in placed:
                if record.object_key:
                    await asyncio.to_thread(self._storage().delete, record.object_key)
            raise

    def _place_many(self, artifacts: list[Artifact]) -> list[tuple[ArtifactRecord, _PendingChunks | None]]:
        return [self._place(a, lambda a=a: text_chunks(a.content), a.content) for a in artifacts]

    async def get(self, artifact_id: str) -> Artifact | None:
        from artifacts.models import ArtifactRecord

        record = await ArtifactRecord.objects.filter(pk=artifact_id).afirst()
        return await self._to_artifact(record) if record else None

    async def list_by_workflow(
        self, workflow_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(Q(workflow_id=workflow_id), limit, after)

    async def list_by_task(self, task_id: str, *, limit: int | None = None, after: str | None = None) -> list[Artifact]:
        return await self._list(Q(task_id=task_id), limit, after)

    async def list_by_agent(
        self, agent_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(Q(agent_id=agent_id), limit, after)

    async def list_by_type(
        self, artifact_type: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        validate_artifact_type(artifact_type)
        return await self._list(Q(artifact_type=artifact_type), limit, after)

    async def list_by_lineage(
        self, name: str, *, agent_id: str, artifact_type: str, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(Q(lineage_name=name, agent_id=agent_id, artifact_type=artifact_type), limit, after)

    async def delete(self, artifact_id: str) -> bool:
        return await sync_to_async(self._delete)(artifact_id)

    async def count(self) -> int:
        from artifacts.models import ArtifactRecord

        return await ArtifactRecord.objects.acount()

    async def purge_expired(self, *, now: datetime | None = None, batch_size: int = DEFAULT_PURGE_BATCH_SIZE) -> int:
        now = now or datetime.now(UTC)
        total = 0
        while True:
            purged = await sync_to_async(self._purge_batch)(now, batch_size)
            total += purged
            if purged < batch_size:
                return total

    async def open_content(self, artifact_id: str, *, chunk_size: int = CHUNK_BYTES) -> ContentStream | None:
        from artifacts.models import ArtifactRecord

        record = await ArtifactRecord.objects.filter(pk=artifact_id).only("pk", *_DESCRIPTION).afirst()
        if record is None:
            return None
        if record.content_location == OBJECT_STORAGE:
            raw = self._object_chunks(record, chunk_size)
            chunks = iterate_in_thread(verified_chunks(raw, artifact_id=record.artifact_id, **_checksum_of(record)))
        elif record.content_location == DATABASE_CHUNKS:
            # One chunk row per step, read on the ORM's thread (its connection), decoded and hashed on the way.
            raw = rechunk(_decoded_row_chunks(record), chunk_size)
            chunks = _iterate_on_orm_thread(
                verified_chunks(raw, artifact_id=record.artifact_id, **_checksum_of(record))
            )
        else:
            # In-row content is below the size thresholds, or compressed: reading it whole is the cheap part.
            if record.content_encoding == compression.ZSTD:
                text_or_blob = await sync_to_async(_read_blob)(artifact_id)
            else:
                text_or_blob = (
                    await ArtifactRecord.all_objects.values_list("content", flat=True).filter(pk=artifact_id).afirst()
                )
            chunks = _in_row_chunks(record, text_or_blob, chunk_size)
        return ContentStream(record.artifact_id, record.original_size, record.sha256, chunks)

    async def content_info(self, artifact_id: str) -> ContentInfo | None:
        from artifacts.models import ArtifactRecord

        record = await ArtifactRecord.objects.filter(pk=artifact_id).only("pk", *_DESCRIPTION).afirst()
        return record.content_info if record else None

    # Saving

    async def _save(self, artifact: Artifact, chunks: Callable[[], Iterator[bytes]], *, text: str | None) -> None:
        from artifacts.models import ArtifactRecord

        if self.policy.object_storage is not None:
            # Checked for every save, not only large ones, so whether an id is accepted never depends on size.
            check_object_key_safe(artifact.artifact_id)
        if await ArtifactRecord.all_objects.filter(pk=artifact.artifact_id).aexists():
            raise ArtifactExistsError(artifact.artifact_id)
        # Hashing, compressing and uploading are slow and need no database: keep them off the ORM's thread.
        record, pending = await asyncio.to_thread(self._place, artifact, chunks, text)
        try:
            # Chunked content is read, compressed and written row by row inside the insert's transaction.
            await sync_to_async(_insert)(record, pending)
        except BaseException:
            if record.object_key:
                await asyncio.to_thread(self._storage().delete, record.object_key)
            raise

    def _place(
        self, artifact: Artifact, source: Callable[[], Iterator[bytes]], text: str | None
    ) -> tuple[ArtifactRecord, _PendingChunks | None]:
        """The row for `artifact`, its content placed by size: in the row, compressed, uploaded, or in chunks.

        Chunked content is not read here: the pending chunks are written by the insert, in its transaction.
        """
        from artifacts.models import ArtifactRecord

        head, rest, size_at_least = _peek(source(), self.policy.decision_bytes())
        encoding = self.policy.encoding_for(size_at_least)
        offload = self.policy.offloads(size_at_least)
        chunked = not offload and self.policy.chunks(size_at_least)
        in_text_column = encoding == compression.IDENTITY and not offload and not chunked
        meter = Meter(validate=text is None, keep_chars=0 if in_text_column else SEARCH_PREFIX_CHARS)
        raw = meter.watch(itertools.chain(head, rest))
        stored = compression.encode_chunks(raw, encoding, level=self.policy.compression_level)
        record = ArtifactRecord.from_artifact(dataclasses.replace(artifact, content=""))
        record.content_encoding = encoding
        if chunked:
            record.content_location = DATABASE_CHUNKS
            return record, _PendingChunks(stored, meter)
        if offload:
            record.content_location = OBJECT_STORAGE
            record.object_key = self._storage().key_for(artifact.artifact_id)
            record.stored_size = self._storage().upload(record.object_key, stored)
        elif not in_text_column:
            blob = bytearray()
            for piece in stored:
                blob += piece
            record.content_blob = blob
            record.stored_size = len(blob)
        elif text is None:
            record.content = read_text(stored, artifact_id=artifact.artifact_id)
            record.stored_size = meter.size
        else:
            for _ in stored:  # only measured and hashed: the text is at hand already
                pass
            record.content = text
            record.stored_size = meter.size
        record.original_size = meter.size
        record.sha256 = meter.hexdigest()
        record.search_text = "" if in_text_column else meter.prefix()
        return record, None

    # Reading

    async def _list(self, where: Q, limit: int | None, after: str | None) -> list[Artifact]:
        check_limit(limit)
        rows = await keyset_page(where, limit=limit, after=after)
        return [await self._to_artifact(record) async for record in rows]

    async def _to_artifact(self, record: ArtifactRecord) -> Artifact:
        if record.content_location == DATABASE_CHUNKS:
            read = sync_to_async(read_text)  # the chunk rows are read through the ORM's connection
            content = await read(_decoded_row_chunks(record), artifact_id=record.artifact_id, **_checksum_of(record))
            return record.to_artifact(content)
        if record.content_location != OBJECT_STORAGE:
            return record.to_artifact()
        chunks = self._object_chunks(record, CHUNK_BYTES)
        content = await asyncio.to_thread(read_text, chunks, artifact_id=record.artifact_id, **_checksum_of(record))
        return record.to_artifact(content)

    def _object_chunks(self, record: ArtifactRecord, chunk_size: int) -> Iterator[bytes]:
        """The raw content of an offloaded artifact (decoded, not yet verified)."""
        stored = self._storage().iter_chunks(record.object_key, chunk_size=chunk_size)
        return rechunk(compression.decode_chunks(stored, record.content_encoding), chunk_size)

    def _storage(self) -> ObjectStorage:
        if self.policy.object_storage is None:
            raise StoreUnavailableError(
                "This artifact's content is in object storage, but no bucket is configured (CONDUCTOR_S3_BUCKET)."
            )
        return self.policy.object_storage

    # Deleting

    # Chunk rows go with their artifact row (ON DELETE CASCADE in the database), however it is deleted.

    def _delete(self, artifact_id: str) -> bool:
        from artifacts.models import ArtifactRecord

        # The row stays locked while its object goes: if the object store fails, nothing is deleted.
        with transaction.atomic():
            key = ArtifactRecord.all_objects.select_for_update().filter(pk=artifact_id).values_list("object_key")
            row = key.first()
            if row is None:
                return False
            if row[0]:
                self._storage().delete(row[0])
            ArtifactRecord.all_objects.filter(pk=artifact_id).delete()
        return True

    def _purge_batch(self, now: datetime, batch_size: int) -> int:
        from artifacts.models import ArtifactRecord

        with transaction.atomic():
            rows = list(
                ArtifactRecord.all_objects.expired(now)
                .order_by("expires_at")
                .select_for_update(skip_locked=True)
                .values_list("pk", "object_key")[:batch_size]
            )
            if keys := [key for _, key in rows if key]:
                self._storage().delete_many(keys)
            ArtifactRecord.all_objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        return len(rows)


def _peek(chunks: Iterator[bytes], limit: int | None) -> tuple[list[bytes], Iterator[bytes], int]:
    """Read until `limit` bytes are seen (or the end): the chunks read, the rest, and a lower bound on the size.

    Enough to place content by size without reading a large stream whole.
    """
    head: list[bytes] = []
    seen = 0
    for chunk in chunks:
        head.append(chunk)
        seen += len(chunk)
        if limit is not None and seen >= limit:
            break
    return head, chunks, seen


def _checksum_of(record: ArtifactRecord) -> dict:
    return {"sha256": record.sha256, "size": record.original_size}


async def _in_row_chunks(record: ArtifactRecord, stored: str | bytes | None, chunk_size: int) -> AsyncIterator[bytes]:
    if record.content_encoding == compression.ZSTD:
        # Fed a slice at a time: one decompress call on the whole blob would return the whole text.
        blob = memoryview(stored if stored is not None else b"")
        slices = (blob[start : start + CHUNK_BYTES] for start in range(0, len(blob), CHUNK_BYTES))
        raw = compression.decode_chunks(slices, compression.ZSTD)
        for chunk in verified_chunks(rechunk(raw, chunk_size), artifact_id=record.artifact_id, **_checksum_of(record)):
            yield chunk
    else:
        for chunk in text_chunks(str(stored or ""), chunk_chars=max(1, chunk_size // 4)):
            yield chunk


def _insert(record: ArtifactRecord, pending: _PendingChunks | None = None) -> None:
    # A savepoint, so a duplicate id leaves the caller's transaction usable; force_insert, so an
    # existing id is an error and never an UPDATE. Chunks are written inside it: all or none.
    blob, record.content_blob = record.content_blob, None
    try:
        with transaction.atomic():
            record.save(force_insert=True)
            if blob is not None:
                _write_blob(record, blob)
            if pending is not None:
                pending.write(record)
    except IntegrityError:
        if type(record).all_objects.filter(pk=record.pk).exists():
            raise ArtifactExistsError(record.pk) from None
        raise


def _insert_many(placed: list[tuple[ArtifactRecord, _PendingChunks | None]]) -> None:
    """The whole batch in one savepoint: every row, or none and an ArtifactsExistError naming the taken ids."""
    if not placed:
        return
    records = [record for record, _ in placed]
    model = type(records[0])
    blobs = [(record, record.content_blob) for record in records if record.content_blob is not None]
    for record, _ in blobs:
        record.content_blob = None
    try:
        with transaction.atomic():
            model.all_objects.bulk_create(records)
            for record, blob in blobs:
                _write_blob(record, blob)
            for record, pending in placed:
                if pending is not None:
                    pending.write(record)
    except IntegrityError:
        taken = sorted(model.all_objects.filter(pk__in=[r.pk for r in records]).values_list("pk", flat=True))
        if taken:
            raise ArtifactsExistError(taken) from None
        raise


def _write_blob(record: ArtifactRecord, blob: bytes | bytearray) -> None:
    """Send compressed content as a binary parameter bound by the server.

    Django's client-side binding would spell the bytea out in hex inside the SQL text: several
    copies of a large blob in memory at once instead of one.
    """
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"UPDATE {record._meta.db_table} SET content_blob = %b WHERE artifact_id = %s",  # noqa: S608
            [blob, record.pk],
        )
    record.content_blob = blob


def _read_blob(artifact_id: str) -> bytes | None:
    """Compressed content as binary, not as the hex text Django's text-format results would decode."""
    import psycopg

    from artifacts.models import ArtifactRecord

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT content_blob FROM {ArtifactRecord._meta.db_table} WHERE artifact_id = %s",  # noqa: S608
            [artifact_id],
            binary=True,
        )
        row = cursor.fetchone()
    return row[0] if row else None


@dataclasses.dataclass
class _PendingChunks:
    """Stored content (plain or zstd) still to be written as chunk rows, and the meter watching it go past."""

    stored: Iterable[bytes]
    meter: Meter

    def write(self, record: ArtifactRecord) -> None:
        """Insert the chunk rows one at a time, then record the sizes and checksum they turned out to have.

        Runs inside the transaction that inserted `record`, so a failure (bad UTF-8, a lost connection)
        leaves neither the row nor any chunk. Each chunk is a binary parameter bound by the server.
        """
        import psycopg

        from artifacts.models import ArtifactContentChunk

        table = ArtifactContentChunk._meta.db_table
        stored_size = 0
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            for seq, chunk in enumerate(fixed_chunks(self.stored, CHUNK_BYTES)):
                cursor.execute(
                    f"INSERT INTO {table} (artifact_id, seq, data) VALUES (%s, %s, %b)",  # noqa: S608
                    [record.pk, seq, chunk],
                )
                stored_size += len(chunk)
        record.original_size = self.meter.size
        record.stored_size = stored_size
        record.sha256 = self.meter.hexdigest()
        record.search_text = self.meter.prefix()
        type(record).all_objects.filter(pk=record.pk).update(
            original_size=record.original_size,
            stored_size=record.stored_size,
            sha256=record.sha256,
            search_text=record.search_text,
        )


def _row_chunks(artifact_id: str) -> Iterator[bytes]:
    """The stored chunks of an artifact, one row per query (keyset on seq): never more than one in memory.

    Each query is its own statement, so a slow download holds no transaction or cursor open. A chunk
    missing (the artifact deleted meanwhile) ends the sequence early and the checksum catches it.
    """
    import psycopg

    from artifacts.models import ArtifactContentChunk

    table = ArtifactContentChunk._meta.db_table
    for seq in itertools.count():
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"SELECT data FROM {table} WHERE artifact_id = %s AND seq = %s",  # noqa: S608
                [artifact_id, seq],
                binary=True,
            )
            row = cursor.fetchone()
        if row is None:
            return
        yield row[0]


def _decoded_row_chunks(record: ArtifactRecord) -> Iterable[bytes]:
    """The raw content of a chunked artifact (decoded, not yet verified); iterate it on the ORM's thread."""
    return compression.decode_chunks(_row_chunks(record.artifact_id), record.content_encoding)


async def _iterate_on_orm_thread(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Like iterate_in_thread, but each step runs where the ORM's connection lives (sync_to_async)."""
    done = object()
    step = sync_to_async(next)
    while (chunk := await step(iterator, done)) is not done:
        yield chunk  # type: ignore[misc]


async def keyset_page(where: Q, *, limit: int | None, after: str | None) -> QuerySet:
    """Live rows matching `where`, oldest first, strictly after the artifact `after` (keyset, never OFFSET)."""
    from artifacts.models import ArtifactRecord

    rows = ArtifactRecord.objects.filter(where).order_by("created_at", "artifact_id")
    if after is not None:
        # The cursor may have expired since its page was read; it still marks the place.
        cursor = await ArtifactRecord.all_objects.filter(pk=after).values("created_at").afirst()
        if cursor is None:
            raise unknown_cursor(after)
        created = cursor["created_at"]
        rows = rows.filter(Q(created_at__gt=created) | Q(created_at=created, artifact_id__gt=after))
    return rows[:limit] if limit is not None else rows
