"""How content is stored and read back in pieces: the policy (compress? offload?) and the streams.

Large content is handled as a flow of byte chunks — hashed, measured, validated and compressed on
the way past — so it never has to sit in memory twice.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artifacts import compression
from artifacts.store.artifact import ContentIntegrityError, InvalidArtifactError

if TYPE_CHECKING:
    from artifacts.object_storage import ObjectStorage

CHUNK_BYTES = 1024 * 1024
# Full-text search covers the first 200,000 characters: a tsvector cannot exceed 1 MB.
SEARCH_PREFIX_CHARS = 200_000

DATABASE = "database"
# Large content kept in the database as a sequence of bounded rows (ArtifactContentChunk), never one value.
DATABASE_CHUNKS = "database_chunks"
OBJECT_STORAGE = "object_storage"
REDIS = "redis"
MEMORY = "memory"


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    """Where content of a given size goes, and whether it is compressed there."""

    compress_min_bytes: int | None = None
    compression_level: int = compression.DEFAULT_LEVEL
    object_storage: ObjectStorage | None = None
    object_min_bytes: int = 1024 * 1024
    # In-database content of at least this many bytes is stored as rows of CHUNK_BYTES; None: never.
    chunk_min_bytes: int | None = CHUNK_BYTES

    @classmethod
    def from_settings(cls, *, object_storage: bool = True) -> ContentPolicy:
        """The policy the CONDUCTOR_COMPRESSION_* / CONDUCTOR_S3_* settings describe (one boto3 client per set)."""
        from django.conf import settings

        names = [
            "CONDUCTOR_COMPRESSION_MIN_BYTES",
            "CONDUCTOR_COMPRESSION_LEVEL",
            "CONDUCTOR_OBJECT_STORAGE_MIN_BYTES",
            "CONDUCTOR_DATABASE_CHUNK_MIN_BYTES",
            "CONDUCTOR_S3_BUCKET",
            "CONDUCTOR_S3_ENDPOINT_URL",
            "CONDUCTOR_S3_REGION",
            "CONDUCTOR_S3_PREFIX",
            "CONDUCTOR_S3_ACCESS_KEY_ID",
            "CONDUCTOR_S3_SECRET_ACCESS_KEY",
        ]
        return _policy_for(tuple(getattr(settings, name) for name in names), object_storage)

    def encoding_for(self, size: int) -> str:
        return compression.encoding_for(size, self.compress_min_bytes)

    def offloads(self, size: int) -> bool:
        return self.object_storage is not None and size >= self.object_min_bytes

    def chunks(self, size: int) -> bool:
        """Whether content of `size` bytes kept in the database is stored as chunk rows."""
        return self.chunk_min_bytes is not None and self.chunk_min_bytes >= 0 and size >= self.chunk_min_bytes

    def decision_bytes(self) -> int | None:
        """How many bytes of a stream must be seen before its placement is known (None: the whole stream)."""
        offload_min = self.object_min_bytes if self.object_storage is not None else None
        thresholds = (self.compress_min_bytes, offload_min, self.chunk_min_bytes)
        enabled = [t for t in thresholds if t is not None and t >= 0]
        return max(enabled) if enabled else None


@functools.lru_cache(maxsize=8)
def _policy_for(values: tuple, object_storage: bool) -> ContentPolicy:
    from artifacts.object_storage import ObjectStorage

    compress_min, level, object_min, chunk_min, bucket, endpoint, region, prefix, key_id, secret = values
    storage = None
    if object_storage and bucket:
        storage = ObjectStorage(
            bucket=bucket,
            endpoint_url=endpoint,
            region=region,
            access_key_id=key_id,
            secret_access_key=secret,
            prefix=prefix,
        )
    return ContentPolicy(
        compress_min_bytes=compress_min,
        compression_level=level,
        object_storage=storage,
        object_min_bytes=object_min,
        chunk_min_bytes=None if chunk_min < 0 else chunk_min,
    )


@dataclass(frozen=True, slots=True)
class ContentInfo:
    """How an artifact's content is stored: sizes in bytes (UTF-8), encoding, location and checksum."""

    original_size: int
    stored_size: int
    encoding: str
    location: str
    sha256: str

    @property
    def ratio(self) -> float:
        """Stored bytes per original byte (1.0 for empty or uncompressed content)."""
        return self.stored_size / self.original_size if self.original_size else 1.0


@dataclass(frozen=True, slots=True)
class ContentStream:
    """An artifact's raw content (UTF-8) as chunks, for a StreamingHttpResponse or a file.

    The checksum is verified as the last chunk goes past: a mismatch raises ContentIntegrityError
    from the iterator, after the bad bytes were sent, so a streamed download aborts instead of ending cleanly.
    """

    artifact_id: str
    size: int
    sha256: str
    chunks: AsyncIterator[bytes]


def info_for_text(content: str, *, location: str) -> ContentInfo:
    meter = Meter(validate=False)
    for _ in meter.watch(text_chunks(content)):
        pass
    return ContentInfo(meter.size, meter.size, compression.IDENTITY, location, meter.hexdigest())


def text_chunks(content: str, *, chunk_chars: int = CHUNK_BYTES // 4) -> Iterator[bytes]:
    """UTF-8 bytes of `content`, a slice at a time, so the whole text is never encoded in one buffer."""
    for start in range(0, len(content), chunk_chars):
        yield content[start : start + chunk_chars].encode()


def rechunk(chunks: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Chunks of at most `size` bytes (decompression can turn one small input into a large output)."""
    for chunk in chunks:
        if len(chunk) <= size:
            yield chunk
            continue
        for start in range(0, len(chunk), size):
            yield chunk[start : start + size]


def fixed_chunks(chunks: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Chunks of exactly `size` bytes, the last one shorter (or none at all for no bytes)."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


def utf8_size(content: str) -> int:
    if content.isascii():
        return len(content)
    return sum(len(chunk) for chunk in text_chunks(content))


class Meter:
    """Counts, hashes and (optionally) validates bytes flowing past, keeping the search prefix.

    Validation is for content that arrives as bytes: it must be UTF-8 without NUL characters, the
    same rule the Artifact value object applies to text.
    """

    def __init__(self, *, validate: bool = True, keep_chars: int = 0) -> None:
        self.size = 0
        self._sha = hashlib.sha256()
        self._validate = validate
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._keep_chars = keep_chars
        self._kept: list[str] = []
        self._kept_chars = 0

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._sha.update(chunk)
        if self._validate or self._kept_chars < self._keep_chars:
            self._decode(chunk, final=False)

    def watch(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.feed(chunk)
            yield chunk
        self.finish()

    def finish(self) -> None:
        if self._validate:
            self._decode(b"", final=True)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()

    def prefix(self) -> str:
        return "".join(self._kept)[: self._keep_chars]

    def verify(self, artifact_id: str, expected_sha256: str, expected_size: int) -> None:
        if self.hexdigest() != expected_sha256 or self.size != expected_size:
            raise ContentIntegrityError(
                f"The content of artifact {artifact_id!r} fails its checksum: expected {expected_size} bytes "
                f"with SHA-256 {expected_sha256}, read {self.size} bytes with SHA-256 {self.hexdigest()}. "
                "The stored object was changed or damaged after it was saved."
            )

    def _decode(self, chunk: bytes, *, final: bool) -> None:
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise InvalidArtifactError(f"content must be UTF-8 text: {exc}.") from None
        if self._validate and "\x00" in text:
            raise InvalidArtifactError("content must not contain NUL characters (PostgreSQL text cannot hold them).")
        if self._kept_chars < self._keep_chars and text:
            self._kept.append(text[: self._keep_chars - self._kept_chars])
            self._kept_chars += len(self._kept[-1])


def read_text(chunks: Iterable[bytes], *, artifact_id: str, sha256: str | None = None, size: int | None = None) -> str:
    """Decode raw chunks into text, checking them against the recorded checksum when one is given."""
    meter = Meter(validate=False)
    # "replace", so damaged bytes reach the checksum (a clear error) instead of a UnicodeDecodeError.
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    parts = [decoder.decode(chunk) for chunk in meter.watch(chunks)]
    parts.append(decoder.decode(b"", True))
    if sha256 is not None and size is not None:
        meter.verify(artifact_id, sha256, size)
    return "".join(parts)


def verified_chunks(
    chunks: Iterable[bytes], *, artifact_id: str, sha256: str | None, size: int | None
) -> Iterator[bytes]:
    meter = Meter(validate=False)
    yield from meter.watch(chunks)
    if sha256 is not None and size is not None:
        meter.verify(artifact_id, sha256, size)


async def iterate_in_thread(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Advance a blocking iterator (a download, a decompressor) in worker threads, one chunk at a time."""
    done = object()
    while (chunk := await asyncio.to_thread(next, iterator, done)) is not done:
        yield chunk  # type: ignore[misc]


def blocking_iterator(chunks: AsyncIterable[bytes], loop: asyncio.AbstractEventLoop) -> Iterator[bytes]:
    """The other way round: a worker thread reads an async stream from the event loop that awaits it."""
    iterator = aiter(chunks)
    while True:
        try:
            chunk = asyncio.run_coroutine_threadsafe(anext(iterator), loop).result()
        except StopAsyncIteration:
            return
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidArtifactError(f"content chunks must be bytes, not {type(chunk).__name__}.")
        yield bytes(chunk)
