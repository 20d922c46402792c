"""RedisArtifactStore beyond the contract: Redis down, compression, and what is kept in Redis."""

from __future__ import annotations

import pytest
import redis

from artifacts.store import RedisArtifactStore, StoreUnavailableError
from tests.artifacts.conftest import free_port
from tests.artifacts.test_store_contract import call
from tests.factories import make_artifact


@pytest.fixture
def unreachable() -> RedisArtifactStore:
    return RedisArtifactStore(url=f"redis://:secret@127.0.0.1:{free_port()}/0", prefix="t:")


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("save", (make_artifact(),)),
        ("get", ("art-x",)),
        ("list_by_workflow", ("wf-1",)),
        ("delete", ("art-x",)),
        ("count", ()),
        ("purge_expired", ()),
        ("content_info", ("art-x",)),
    ],
)
def test_redis_down_is_a_clear_error_without_the_password(unreachable, method: str, args: tuple) -> None:
    with pytest.raises(StoreUnavailableError, match=r"Redis at redis://\*\*\*@127\.0\.0\.1:\d+/0 is unreachable"):
        call(getattr(unreachable, method), *args)


def test_large_content_is_compressed_in_redis(redis_store, redis_url) -> None:
    artifact = make_artifact(content="compress me please\n" * 1000)
    call(redis_store.save, artifact)
    info = call(redis_store.content_info, artifact.artifact_id)
    assert (info.encoding, info.location, info.original_size) == ("zstd", "redis", len(artifact.content))
    stored = redis.Redis.from_url(redis_url).hget(f"{redis_store.prefix}a:{artifact.artifact_id}", "content")
    assert len(stored) == info.stored_size < info.original_size / 20
    assert call(redis_store.get, artifact.artifact_id) == artifact


def test_lists_page_through_sorted_sets(redis_store, redis_url) -> None:
    artifacts = [make_artifact() for _ in range(5)]
    for artifact in artifacts:
        call(redis_store.save, artifact)
    index = redis.Redis.from_url(redis_url).zrange(f"{redis_store.prefix}wf:wf-1", 0, -1)
    assert [m.split(b"|", 1)[1].decode() for m in index] == [a.artifact_id for a in artifacts]
    assert call(redis_store.list_by_workflow, "wf-1", limit=2, after=artifacts[1].artifact_id) == artifacts[2:4]


def test_delete_removes_every_index_entry(redis_store, redis_url) -> None:
    artifact = make_artifact(metadata={"name": "a.py"})
    call(redis_store.save, artifact)
    call(redis_store.delete, artifact.artifact_id)
    assert list(redis.Redis.from_url(redis_url).scan_iter(match=f"{redis_store.prefix}*")) == []
