"""Zstandard compression of artifact content, whole or as a stream of chunks.

Every frame carries zstd's own content checksum, so a damaged blob fails loudly on decompression
instead of decoding to different text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import zstandard

IDENTITY = "identity"
ZSTD = "zstd"
ENCODINGS = (IDENTITY, ZSTD)
DEFAULT_LEVEL = 3


class CompressionError(ValueError):
    """Stored bytes could not be decoded with the encoding recorded for them."""


def compress(data: bytes, *, level: int = DEFAULT_LEVEL) -> bytes:
    return b"".join(compress_chunks([data], level=level))


def decompress(data: bytes) -> bytes:
    return b"".join(decompress_chunks([data]))


def compress_chunks(chunks: Iterable[bytes], *, level: int = DEFAULT_LEVEL) -> Iterator[bytes]:
    """One zstd frame, produced piece by piece, so large content is never compressed in one buffer."""
    compressor = zstandard.ZstdCompressor(level=level, write_checksum=True).compressobj()
    for chunk in chunks:
        if out := compressor.compress(chunk):
            yield out
    yield compressor.flush()


def decompress_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    try:
        for chunk in chunks:
            if not chunk:
                continue
            if decompressor.eof:
                raise CompressionError("Stored content has bytes after the end of its zstd frame.")
            if out := decompressor.decompress(chunk):
                yield out
    except zstandard.ZstdError as exc:
        raise CompressionError(f"Stored content is not a valid zstd frame: {exc}.") from None
    if not decompressor.eof:
        raise CompressionError("Stored content ends in the middle of a zstd frame (truncated).")


def encode_chunks(chunks: Iterable[bytes], encoding: str, *, level: int = DEFAULT_LEVEL) -> Iterable[bytes]:
    """The stored form of raw content chunks."""
    check_encoding(encoding)
    return compress_chunks(chunks, level=level) if encoding == ZSTD else chunks


def decode_chunks(chunks: Iterable[bytes], encoding: str) -> Iterable[bytes]:
    """Raw content chunks from their stored form."""
    check_encoding(encoding)
    return decompress_chunks(chunks) if encoding == ZSTD else chunks


def encoding_for(size: int, min_bytes: int | None) -> str:
    """zstd for content of at least `min_bytes` bytes; None (or a negative number) turns compression off."""
    if min_bytes is None or min_bytes < 0 or size < min_bytes:
        return IDENTITY
    return ZSTD


def check_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        raise CompressionError(f"Unknown content encoding {encoding!r}; known encodings are: {', '.join(ENCODINGS)}.")
