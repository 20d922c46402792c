"""Compression round trips for any text, whole and in arbitrary chunks, and what damage looks like."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from artifacts import compression
from artifacts.models import ArtifactRecord
from artifacts.store import ContentPolicy, DjangoArtifactStore
from artifacts.store.content import Meter, read_text, text_chunks
from tests.artifacts.test_store_contract import call
from tests.factories import make_artifact

# Any text an Artifact accepts: everything but NUL and lone surrogates.
texts = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(texts)
@example("")
@example("naïve café ✓ 🚀 日本語")
def test_any_text_survives_compression(text: str) -> None:
    assert compression.decompress(compression.compress(text.encode())).decode() == text


@settings(deadline=None)  # high levels allocate large windows; slow, not wrong
@given(texts, st.lists(st.integers(min_value=0), max_size=8), st.integers(min_value=1, max_value=19))
@example("", [], 3)
@example("ü" * 1000, [1, 3, 5], 1)
def test_any_text_survives_compression_in_any_chunks(text: str, cuts: list[int], level: int) -> None:
    raw = text.encode()
    stored = b"".join(compression.compress_chunks(split(raw, cuts), level=level))
    decoded = compression.decompress_chunks(split(stored, cuts))
    assert read_text(decoded, artifact_id="art-x", sha256=hashlib.sha256(raw).hexdigest(), size=len(raw)) == text


@given(texts, st.integers(min_value=1, max_value=9))
def test_text_chunks_and_the_meter_agree_with_encoding_whole(text: str, chunk_chars: int) -> None:
    meter = Meter(validate=True, keep_chars=5)
    joined = b"".join(meter.watch(text_chunks(text, chunk_chars=chunk_chars)))
    assert joined == text.encode()
    assert (meter.size, meter.hexdigest(), meter.prefix()) == (
        len(joined),
        hashlib.sha256(joined).hexdigest(),
        text[:5],
    )


@settings(max_examples=25, deadline=None)
@given(texts)
@example("")
@example("ñ" * 70_000)
@pytest.mark.django_db
def test_any_text_round_trips_through_the_compressing_orm_store(text: str) -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=0))
    artifact = make_artifact(content=text)
    call(store.save, artifact)
    assert call(store.get, artifact.artifact_id) == artifact
    call(store.delete, artifact.artifact_id)


def test_truncated_content_is_an_error_not_short_text() -> None:
    stored = compression.compress(b"hello world" * 100)
    with pytest.raises(compression.CompressionError, match="truncated"):
        compression.decompress(stored[:-5])


def test_garbage_is_an_error() -> None:
    with pytest.raises(compression.CompressionError, match="not a valid zstd frame"):
        compression.decompress(b"definitely not zstd")


def test_unknown_encodings_are_refused() -> None:
    with pytest.raises(compression.CompressionError, match="known encodings are: identity, zstd"):
        list(compression.decode_chunks([b""], "brotli"))


@pytest.mark.django_db
def test_the_row_records_original_and_stored_size_and_stays_searchable() -> None:
    store = DjangoArtifactStore(policy=ContentPolicy(compress_min_bytes=1024))
    small = make_artifact(content="tiny")
    big = make_artifact(content="def fibonacci(n): return n\n" * 2000)
    call(store.save, small)
    call(store.save, big)
    small_row = ArtifactRecord.objects.get(pk=small.artifact_id)
    big_row = ArtifactRecord.objects.get(pk=big.artifact_id)
    assert (small_row.content_encoding, small_row.original_size, small_row.stored_size) == ("identity", 4, 4)
    assert big_row.content_encoding == "zstd"
    assert big_row.content == ""
    assert big_row.original_size == len(big.content)
    assert big_row.stored_size < big_row.original_size / 20
    assert big_row.to_artifact() == big
    assert call(store.content_info, big.artifact_id).ratio < 0.05
    from django.contrib.postgres.search import SearchQuery

    hits = ArtifactRecord.objects.filter(search=SearchQuery("fibonacci", config="simple"))
    assert [r.artifact_id for r in hits] == [big.artifact_id]
