"""One contract for every ArtifactStore backend: add a backend by adding one entry to BACKENDS."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync

from artifacts.store import (
    ArtifactExistsError,
    ArtifactsExistError,
    ArtifactStore,
    ContentPolicy,
    DjangoArtifactStore,
    InMemoryArtifactStore,
    InvalidArtifactError,
    get_artifact_store,
)
from tests.factories import make_artifact


class OneByOneBatchStore(InMemoryArtifactStore):
    """A backend that keeps the interface's default save_many, as a backend without transactions would."""

    save_many = ArtifactStore.save_many


def orm(request: pytest.FixtureRequest, **policy: object) -> DjangoArtifactStore:
    request.getfixturevalue("db")
    return DjangoArtifactStore(policy=ContentPolicy(**policy)) if policy else DjangoArtifactStore()


def offloading(request: pytest.FixtureRequest) -> dict:
    return {"object_storage": request.getfixturevalue("object_storage"), "object_min_bytes": 0}


# Thresholds of 0 put every artifact, even an empty one, through compression, chunk rows or object storage.
BACKENDS: dict[str, Callable[[pytest.FixtureRequest], ArtifactStore]] = {
    "memory": lambda request: InMemoryArtifactStore(),
    "default-batch": lambda request: OneByOneBatchStore(),
    "orm": lambda request: orm(request),
    "orm+compression": lambda request: orm(request, compress_min_bytes=0),
    "orm+chunks": lambda request: orm(request, chunk_min_bytes=0),
    "orm+chunks+compression": lambda request: orm(request, chunk_min_bytes=0, compress_min_bytes=0),
    "orm+object-storage": lambda request: orm(request, **offloading(request)),
    "orm+object-storage+compression": lambda request: orm(request, compress_min_bytes=0, **offloading(request)),
    "redis": lambda request: request.getfixturevalue("redis_store"),
}


# The database mark is on the parameter, so pytest-django sets up the test database even when this
# module runs alone (a fixture that only asks for `db` at run time is too late for that).
PARAMS = [pytest.param(name, marks=pytest.mark.django_db) if "orm" in name else name for name in BACKENDS]


@pytest.fixture(params=PARAMS)
def store(request: pytest.FixtureRequest) -> ArtifactStore:
    return BACKENDS[request.param](request)


def call(method, *args, **kwargs):
    """Await a store method from a sync test (in this thread, so the ORM sees the test transaction)."""
    return async_to_sync(method)(*args, **kwargs)


def test_it_saves_and_gets_an_artifact_unchanged(store: ArtifactStore) -> None:
    artifact = make_artifact(content="héllo ✓\nline two", metadata={"language": "python", "n": [1, 2]})
    call(store.save, artifact)
    assert call(store.get, artifact.artifact_id) == artifact


def test_it_returns_none_for_an_unknown_id(store: ArtifactStore) -> None:
    assert call(store.get, "art-missing") is None


def test_it_refuses_to_overwrite_an_existing_id(store: ArtifactStore) -> None:
    original = make_artifact(content="original")
    call(store.save, original)
    with pytest.raises(ArtifactExistsError, match="already exists"):
        call(store.save, make_artifact(artifact_id=original.artifact_id, content="replacement"))
    assert call(store.get, original.artifact_id).content == "original"
    assert call(store.count) == 1


def test_it_saves_a_batch(store: ArtifactStore) -> None:
    batch = [make_artifact(content=f"batch {n} " * n) for n in range(5)]
    call(store.save_many, batch)
    assert call(store.list_by_workflow, "wf-1") == batch


def test_a_batch_with_a_taken_id_saves_nothing_and_names_every_taken_id(store: ArtifactStore) -> None:
    first, second = make_artifact(), make_artifact()
    call(store.save, first)
    call(store.save, second)
    batch = [make_artifact(), make_artifact(artifact_id=second.artifact_id)]
    batch.append(make_artifact(artifact_id=first.artifact_id))
    with pytest.raises(ArtifactsExistError) as caught:
        call(store.save_many, batch)
    assert sorted(caught.value.artifact_ids) == sorted([first.artifact_id, second.artifact_id])
    assert isinstance(caught.value, ArtifactExistsError)
    assert call(store.count) == 2


def test_a_batch_repeating_an_id_is_refused(store: ArtifactStore) -> None:
    twin = make_artifact()
    with pytest.raises(InvalidArtifactError, match="more than once"):
        call(store.save_many, [twin, make_artifact(artifact_id=twin.artifact_id)])
    assert call(store.count) == 0


def test_it_saves_empty_content(store: ArtifactStore) -> None:
    artifact = make_artifact(content="")
    call(store.save, artifact)
    assert call(store.get, artifact.artifact_id).content == ""


@pytest.mark.parametrize(
    ("method", "field", "value"),
    [
        ("list_by_workflow", "workflow_id", "wf-a"),
        ("list_by_task", "task_id", "task-a"),
        ("list_by_agent", "agent_id", "tester"),
        ("list_by_type", "artifact_type", "review"),
    ],
)
def test_each_list_returns_only_matches_oldest_first(store: ArtifactStore, method: str, field: str, value: str) -> None:
    matches = [make_artifact(**{field: value}) for _ in range(3)]
    other = make_artifact(workflow_id="wf-z", task_id="task-z", agent_id="coder", artifact_type="code")
    for artifact in [matches[2], other, matches[0], matches[1]]:
        call(store.save, artifact)
    assert call(getattr(store, method), value) == matches


def test_lists_break_timestamp_ties_by_id(store: ArtifactStore) -> None:
    same_time = make_artifact().created_at
    artifacts = [make_artifact(artifact_id=f"art-{c}", created_at=same_time) for c in "cab"]
    for artifact in artifacts:
        call(store.save, artifact)
    assert [a.artifact_id for a in call(store.list_by_workflow, "wf-1")] == ["art-a", "art-b", "art-c"]


def test_keyset_paging_walks_every_row_once(store: ArtifactStore) -> None:
    same_time = make_artifact().created_at
    saved = [make_artifact() for _ in range(5)] + [
        make_artifact(artifact_id=f"art-tie-{i}", created_at=same_time) for i in range(3)
    ]
    for artifact in saved:
        call(store.save, artifact)
    expected = call(store.list_by_workflow, "wf-1")
    pages, after = [], None
    while page := call(store.list_by_workflow, "wf-1", limit=3, after=after):
        pages.append(page)
        after = page[-1].artifact_id
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [a for p in pages for a in p] == expected


def test_paging_after_an_unknown_id_is_an_error(store: ArtifactStore) -> None:
    with pytest.raises(InvalidArtifactError, match="names no stored artifact"):
        call(store.list_by_agent, "coder", after="art-nope")


@pytest.mark.parametrize("limit", [0, -1, "3", True])
def test_it_rejects_bad_limits(store: ArtifactStore, limit: object) -> None:
    with pytest.raises(InvalidArtifactError, match="limit must be a positive whole number"):
        call(store.list_by_workflow, "wf-1", limit=limit)


def test_list_by_type_rejects_unknown_types(store: ArtifactStore) -> None:
    with pytest.raises(InvalidArtifactError, match="known types are"):
        call(store.list_by_type, "poem")


def test_it_deletes_and_counts(store: ArtifactStore) -> None:
    first, second = make_artifact(), make_artifact()
    call(store.save, first)
    call(store.save, second)
    assert call(store.count) == 2
    assert call(store.delete, first.artifact_id) is True
    assert call(store.delete, first.artifact_id) is False
    assert call(store.get, first.artifact_id) is None
    assert call(store.count) == 1


def test_get_artifact_store_returns_the_configured_backend(settings) -> None:
    assert isinstance(get_artifact_store(), DjangoArtifactStore)
    settings.CONDUCTOR_ARTIFACT_STORE = "artifacts.store.InMemoryArtifactStore"
    assert isinstance(get_artifact_store(), InMemoryArtifactStore)


def test_it_round_trips_large_non_ascii_content(store: ArtifactStore) -> None:
    artifact = make_artifact(content="ünïcødé ✓ 🚀 line\n" * 20_000)
    call(store.save, artifact)
    assert call(store.get, artifact.artifact_id) == artifact


def test_expired_artifacts_vanish_from_get_lists_and_count_at_once(store: ArtifactStore) -> None:
    now = datetime.now(UTC)
    expired = make_artifact(expires_at=now - timedelta(seconds=1))
    live = make_artifact(expires_at=now + timedelta(days=1), metadata={"name": "a.py"})
    for artifact in [expired, live]:
        call(store.save, artifact)
    assert call(store.get, expired.artifact_id) is None
    assert call(store.get, live.artifact_id) == live
    assert call(store.list_by_workflow, "wf-1") == [live]
    assert call(store.list_by_agent, "coder") == [live]
    assert call(store.list_by_type, "code") == [live]
    assert call(store.list_by_task, expired.task_id) == []
    assert call(store.count) == 1
    assert call(store.open_content, expired.artifact_id) is None
    assert call(store.content_info, expired.artifact_id) is None


def test_a_page_can_continue_after_an_artifact_that_expired(store: ArtifactStore) -> None:
    now = datetime.now(UTC)
    first = make_artifact(expires_at=now - timedelta(seconds=1))
    second = make_artifact()
    call(store.save, first)
    call(store.save, second)
    assert call(store.list_by_workflow, "wf-1", after=first.artifact_id) == [second]


def test_purge_deletes_expired_artifacts_in_batches(store: ArtifactStore) -> None:
    now = datetime.now(UTC)
    expired = [make_artifact(expires_at=now - timedelta(minutes=i + 1)) for i in range(5)]
    kept = make_artifact(expires_at=now + timedelta(days=1))
    for artifact in [*expired, kept]:
        call(store.save, artifact)
    assert call(store.purge_expired, batch_size=2) == 5
    assert call(store.purge_expired, batch_size=2) == 0
    assert call(store.delete, expired[0].artifact_id) is False
    assert call(store.count) == 1


def test_default_retention_applies_by_type(store: ArtifactStore, settings) -> None:
    settings.CONDUCTOR_RETENTION_DAYS = {"test_data": 7}
    created = datetime.now(UTC)
    scratch = make_artifact(artifact_type="test_data", created_at=created)
    code = make_artifact(created_at=created)
    call(store.save, scratch)
    call(store.save, code)
    assert call(store.get, scratch.artifact_id).expires_at == created + timedelta(days=7)
    assert call(store.get, code.artifact_id).expires_at is None


def test_versions_share_name_agent_and_type(store: ArtifactStore) -> None:
    versions = [make_artifact(workflow_id=f"run-{i}", metadata={"name": "src/app.py"}) for i in range(3)]
    others = [
        make_artifact(metadata={"name": "src/other.py"}),
        make_artifact(metadata={"name": "src/app.py"}, agent_id="reviewer"),
        make_artifact(metadata={"name": "src/app.py"}, artifact_type="test"),
        make_artifact(metadata={}),
    ]
    for artifact in [versions[2], *others, versions[0], versions[1]]:
        call(store.save, artifact)
    assert call(store.list_by_lineage, "src/app.py", agent_id="coder", artifact_type="code") == versions
    page = call(store.list_by_lineage, "src/app.py", agent_id="coder", artifact_type="code", limit=2)
    assert page == versions[:2]
    rest = call(store.list_by_lineage, "src/app.py", agent_id="coder", artifact_type="code", after=page[-1].artifact_id)
    assert rest == versions[2:]


async def read_stream(store: ArtifactStore, artifact_id: str, chunk_size: int = 1000) -> tuple[int, str, bytes] | None:
    stream = await store.open_content(artifact_id, chunk_size=chunk_size)
    if stream is None:
        return None
    data = b"".join([chunk async for chunk in stream.chunks])
    return stream.size, stream.sha256, data


@pytest.mark.parametrize("content", ["", "short", "näive ✓ text\n" * 5000])
def test_it_streams_content_as_utf8_chunks(store: ArtifactStore, content: str) -> None:
    artifact = make_artifact(content=content)
    call(store.save, artifact)
    raw = content.encode()
    assert call(read_stream, store, artifact.artifact_id) == (len(raw), hashlib.sha256(raw).hexdigest(), raw)
    info = call(store.content_info, artifact.artifact_id)
    assert (info.original_size, info.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert call(read_stream, store, "art-missing") is None
    assert call(store.content_info, "art-missing") is None


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_it_saves_content_from_a_stream_split_mid_character(store: ArtifactStore) -> None:
    content = "ß✓🚀 mixed\n" * 3000
    shell = make_artifact(content="")
    call(store.save_stream, shell, chunks_of(content.encode(), 7))
    assert call(store.get, shell.artifact_id) == dataclasses.replace(shell, content=content)


@pytest.mark.parametrize(("data", "problem"), [(b"ok \xff\xfe", "UTF-8"), (b"nul \x00 here", "NUL")])
def test_a_stream_that_is_not_text_is_refused_and_leaves_nothing(store: ArtifactStore, data: bytes, problem) -> None:
    shell = make_artifact(content="")
    with pytest.raises(InvalidArtifactError, match=problem):
        call(store.save_stream, shell, chunks_of(data, 3))
    assert call(store.get, shell.artifact_id) is None
    assert call(store.count) == 0


def test_save_stream_wants_the_content_from_the_stream(store: ArtifactStore) -> None:
    with pytest.raises(InvalidArtifactError, match="content must be ''"):
        call(store.save_stream, make_artifact(content="x"), chunks_of(b"y", 1))
