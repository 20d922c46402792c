"""A full backend in Redis (redis-py's asyncio client), for hot artifacts shared between machines.

Layout, under a key prefix (CONDUCTOR_REDIS_PREFIX):

- `a:<id>`: a hash per artifact (fields, content — zstd above the compression threshold — and its sizes);
- `all`, `wf:<workflow>`, `task:<task>`, `agent:<agent>`, `type:<type>`, `lineage:<digest>`: sorted sets whose
  members are `<created_at as 19-digit microseconds>|<id>` with equal scores, so lexicographic order is
  (created_at, id) order and every page is a ZRANGE BYLEX from the cursor's member — no scans;
- `expiry`: a sorted set of ids scored by their expires_at (microseconds), for counting and purging.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import weakref
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from artifacts import compression
from artifacts.expiry import with_default_expiry
from artifacts.store.artifact import Artifact, ArtifactExistsError, StoreUnavailableError, validate_artifact_type
from artifacts.store.base import DEFAULT_PURGE_BATCH_SIZE, ArtifactStore, check_limit, unknown_cursor
from artifacts.store.content import (
    CHUNK_BYTES,
    REDIS,
    ContentInfo,
    ContentPolicy,
    ContentStream,
    Meter,
    read_text,
    rechunk,
    text_chunks,
    utf8_size,
    verified_chunks,
)

_EPOCH = datetime(1, 1, 1, tzinfo=UTC)
_PAGE = 500

# Atomic insert-if-absent: the hash, every index and the expiry entry, or nothing.
# KEYS: hash, expiry, indexes…; ARGV: member, expiry score or "", id, field, value, field, value…
_SAVE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 3, #KEYS do redis.call('ZADD', KEYS[i], 0, ARGV[1]) end
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) end
return 1
"""
_FIELDS = ("workflow_id", "task_id", "agent_id", "artifact_type", "metadata", "created_at", "expires_at")


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _member(artifact_id: str, created_at: datetime) -> bytes:
    return f"{_micros(created_at):019d}|{artifact_id}".encode()


class RedisArtifactStore(ArtifactStore):
    def __init__(
        self,
        *,
        url: str | None = None,
        prefix: str | None = None,
        policy: ContentPolicy | None = None,
        client: Redis | None = None,
    ) -> None:
        """Defaults: REDIS_URL, CONDUCTOR_REDIS_PREFIX and the compression settings (no object storage)."""
        self.url = url or settings.REDIS_URL
        self.prefix = prefix if prefix is not None else settings.CONDUCTOR_REDIS_PREFIX
        self.policy = policy if policy is not None else ContentPolicy.from_settings(object_storage=False)
        self._client = client
        # redis-py's asyncio connections belong to one event loop; keep a client per loop.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = weakref.WeakKeyDictionary()

    async def aclose(self) -> None:
        """Close this loop's connections (the client passed in, if any, belongs to the caller)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def save(self, artifact: Artifact) -> None:
        artifact = with_default_expiry(artifact)
        meter = Meter(validate=False)
        encoding = self.policy.encoding_for(utf8_size(artifact.content))
        stored = b"".join(
            compression.encode_chunks(
                meter.watch(text_chunks(artifact.content)), encoding, level=self.policy.compression_level
            )
        )
        member = _member(artifact.artifact_id, artifact.created_at)
        values: dict[str, Any] = {
            **self._encode_fields(artifact),
            "member": member,
            "content": stored,
            "encoding": encoding,
            "original_size": meter.size,
            "stored_size": len(stored),
            "sha256": meter.hexdigest(),
        }
        keys = [self._key("a", artifact.artifact_id), self._key("expiry"), *self._index_keys(artifact)]
        expiry = str(_micros(artifact.expires_at)) if artifact.expires_at else ""
        args = [member, expiry, artifact.artifact_id, *(item for pair in values.items() for item in pair)]
        with self._reachable():
            saved = await self._redis().register_script(_SAVE)(keys=keys, args=args)
        if not saved:
            raise ArtifactExistsError(artifact.artifact_id)

    async def get(self, artifact_id: str) -> Artifact | None:
        with self._reachable():
            fields = await self._redis().hgetall(self._key("a", artifact_id))
        return self._decode(artifact_id, fields)

    async def list_by_workflow(
        self, workflow_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(self._key("wf", workflow_id), limit, after)

    async def list_by_task(self, task_id: str, *, limit: int | None = None, after: str | None = None) -> list[Artifact]:
        return await self._list(self._key("task", task_id), limit, after)

    async def list_by_agent(
        self, agent_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(self._key("agent", agent_id), limit, after)

    async def list_by_type(
        self, artifact_type: str, *, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        validate_artifact_type(artifact_type)
        return await self._list(self._key("type", artifact_type), limit, after)

    async def list_by_lineage(
        self, name: str, *, agent_id: str, artifact_type: str, limit: int | None = None, after: str | None = None
    ) -> list[Artifact]:
        return await self._list(self._lineage_key(name, agent_id, artifact_type), limit, after)

    async def delete(self, artifact_id: str) -> bool:
        with self._reachable():
            return await self._delete(artifact_id)

    async def count(self) -> int:
        now = _micros(datetime.now(UTC))
        with self._reachable():
            async with self._redis().pipeline(transaction=True) as pipe:
                total, expired = await pipe.zcard(self._key("all")).zcount(self._key("expiry"), "-inf", now).execute()
        return total - expired

    async def purge_expired(self, *, now: datetime | None = None, batch_size: int = DEFAULT_PURGE_BATCH_SIZE) -> int:
        cutoff = _micros(now or datetime.now(UTC))
        purged = 0
        expiry = self._key("expiry")
        with self._reachable():
            while ids := await self._redis().zrangebyscore(expiry, "-inf", cutoff, start=0, num=batch_size):
                for artifact_id in ids:
                    purged += await self._delete(artifact_id.decode())
                if len(ids) < batch_size:
                    break
        return purged

    async def open_content(self, artifact_id: str, *, chunk_size: int = CHUNK_BYTES) -> ContentStream | None:
        info, stored = await self._content(artifact_id, with_bytes=True)
        if info is None:
            return None

        async def chunks() -> AsyncIterator[bytes]:
            raw = rechunk(compression.decode_chunks([stored], info.encoding), chunk_size)
            for chunk in verified_chunks(raw, artifact_id=artifact_id, sha256=info.sha256, size=info.original_size):
                yield chunk

        return ContentStream(artifact_id, info.original_size, info.sha256, chunks())

    async def content_info(self, artifact_id: str) -> ContentInfo | None:
        info, _ = await self._content(artifact_id, with_bytes=False)
        return info

    # Internals

    def _redis(self) -> Redis:
        if self._client is not None:
            return self._client
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=30, health_check_interval=30)
            self._clients[loop] = client
        return client

    @contextlib.contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
            raise StoreUnavailableError(f"Redis at {_redacted(self.url)} is unreachable: {exc}") from exc

    def _key(self, kind: str, name: str = "") -> str:
        return f"{self.prefix}{kind}:{name}" if name else f"{self.prefix}{kind}"

    def _lineage_key(self, name: str, agent_id: str, artifact_type: str) -> str:
        digest = hashlib.sha256(json.dumps([name, agent_id, artifact_type]).encode()).hexdigest()
        return self._key("lineage", digest)

    def _index_keys(self, artifact: Artifact) -> list[str]:
        keys = [
            self._key("all"),
            self._key("wf", artifact.workflow_id),
            self._key("task", artifact.task_id),
            self._key("agent", artifact.agent_id),
            self._key("type", artifact.artifact_type),
        ]
        if artifact.lineage_name is not None:
            keys.append(self._lineage_key(artifact.lineage_name, artifact.agent_id, artifact.artifact_type))
        return keys

    @staticmethod
    def _encode_fields(artifact: Artifact) -> dict[str, str]:
        return {
            "workflow_id": artifact.workflow_id,
            "task_id": artifact.task_id,
            "agent_id": artifact.agent_id,
            "artifact_type": artifact.artifact_type,
            "metadata": json.dumps(artifact.metadata),
            "created_at": artifact.created_at.isoformat(),
            "expires_at": artifact.expires_at.isoformat() if artifact.expires_at else "",
        }

    def _decode(self, artifact_id: str, fields: dict[bytes, bytes]) -> Artifact | None:
        if not fields:
            return None
        text = {name: fields[name.encode()].decode() for name in _FIELDS}
        expires_at = datetime.fromisoformat(text["expires_at"]) if text["expires_at"] else None
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        encoding = fields[b"encoding"].decode()
        content = read_text(compression.decode_chunks([fields[b"content"]], encoding), artifact_id=artifact_id)
        return Artifact(
            artifact_id=artifact_id,
            workflow_id=text["workflow_id"],
            task_id=text["task_id"],
            agent_id=text["agent_id"],
            artifact_type=text["artifact_type"],
            content=content,
            metadata=json.loads(text["metadata"]),
            created_at=datetime.fromisoformat(text["created_at"]),
            expires_at=expires_at,
        )

    async def _list(self, index: str, limit: int | None, after: str | None) -> list[Artifact]:
        check_limit(limit)
        redis = self._redis()
        found: list[Artifact] = []
        with self._reachable():
            start = b"-"
            if after is not None:
                cursor = await redis.hget(self._key("a", after), "member")
                if cursor is None:
                    raise unknown_cursor(after)
                start = b"(" + cursor
            page = min(limit, _PAGE) if limit is not None else _PAGE
            # Expired artifacts stay indexed until purged; skip them and read on until the page is full.
            while members := await redis.zrange(index, start, b"+", bylex=True, offset=0, num=page):
                ids = [member.split(b"|", 1)[1].decode() for member in members]
                async with redis.pipeline(transaction=False) as pipe:
                    for artifact_id in ids:
                        pipe.hgetall(self._key("a", artifact_id))
                    rows = await pipe.execute()
                for artifact_id, fields in zip(ids, rows, strict=True):
                    if (artifact := self._decode(artifact_id, fields)) is not None:
                        found.append(artifact)
                        if limit is not None and len(found) == limit:
                            return found
                if len(members) < page:
                    break
                start = b"(" + members[-1]
        return found

    async def _delete(self, artifact_id: str) -> bool:
        redis = self._redis()
        key = self._key("a", artifact_id)
        names = ("workflow_id", "task_id", "agent_id", "artifact_type", "metadata", "created_at", "member")
        values = await redis.hmget(key, names)
        if values[0] is None:
            return False
        fields = dict(zip(names, (v.decode() for v in values), strict=True))
        shell = Artifact(
            artifact_id=artifact_id,
            workflow_id=fields["workflow_id"],
            task_id=fields["task_id"],
            agent_id=fields["agent_id"],
            artifact_type=fields["artifact_type"],
            content="",
            metadata=json.loads(fields["metadata"]),
            created_at=datetime.fromisoformat(fields["created_at"]),
        )
        async with redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            for index in self._index_keys(shell):
                pipe.zrem(index, fields["member"])
            pipe.zrem(self._key("expiry"), artifact_id)
            results = await pipe.execute()
        return bool(results[0])

    async def _content(self, artifact_id: str, *, with_bytes: bool) -> tuple[ContentInfo | None, bytes]:
        names = ["original_size", "stored_size", "encoding", "sha256", "expires_at"]
        if with_bytes:
            names.append("content")
        with self._reachable():
            values = await self._redis().hmget(self._key("a", artifact_id), names)
        if values[0] is None:
            return None, b""
        if values[4] and datetime.fromisoformat(values[4].decode()) <= datetime.now(UTC):
            return None, b""
        info = ContentInfo(
            original_size=int(values[0]),
            stored_size=int(values[1]),
            encoding=values[2].decode(),
            location=REDIS,
            sha256=values[3].decode(),
        )
        return info, values[5] if with_bytes else b""


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
