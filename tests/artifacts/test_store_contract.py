"""One contract for every ArtifactStore backend: add a backend by adding one entry to BACKENDS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync

from artifacts.store import (
    ArtifactExistsError,
    ArtifactsExistError,
    ArtifactStore,
    DjangoArtifactStore,
    InMemoryArtifactStore,
    InvalidArtifactError,
    get_artifact_store,
)
from tests.factories import make_artifact


class OneByOneBatchStore(InMemoryArtifactStore):
    """A backend that keeps the interface's default save_many, as a backend without transactions would."""

    save_many = ArtifactStore.save_many


BACKENDS: dict[str, Callable[[], ArtifactStore]] = {
    "memory": InMemoryArtifactStore,
    "orm": DjangoArtifactStore,
    "default-batch": OneByOneBatchStore,
}


@pytest.fixture(params=list(BACKENDS))
def store(request: pytest.FixtureRequest) -> ArtifactStore:
    if request.param == "orm":
        request.getfixturevalue("db")
    return BACKENDS[request.param]()


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
    batch = [make_artifact() for _ in range(5)]
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
