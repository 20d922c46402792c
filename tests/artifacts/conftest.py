"""Real services for the artifact store tests: an S3-compatible HTTP server and Redis.

The S3 server is moto's standalone server on a free loopback port: boto3 speaks real HTTP to it,
so retries, multipart uploads and error responses all run as they would against S3 or MinIO.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings

from artifacts.object_storage import ObjectStorage
from artifacts.store import ContentPolicy, RedisArtifactStore
from conductor_site.local_servers import free_port
from tests.conftest import service_missing


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:  # pragma: no cover - moto[server] is in requirements.txt
        service_missing("moto[server] is not installed, so there is no S3-compatible server to test against")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_storage(endpoint: str, *, bucket: str | None = None, **options: object) -> ObjectStorage:
    return ObjectStorage(
        bucket=bucket or f"conductor-test-{uuid.uuid4().hex[:12]}",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        **options,
    )


@pytest.fixture
def object_storage(s3_endpoint: str) -> ObjectStorage:
    storage = s3_storage(s3_endpoint)
    storage.create_bucket()
    return storage


@pytest.fixture
def bucket_keys(object_storage: ObjectStorage):
    """Every key in the test bucket (to prove nothing is left behind)."""

    def keys() -> list[str]:
        response = object_storage._client.list_objects_v2(Bucket=object_storage.bucket)
        return [item["Key"] for item in response.get("Contents", [])]

    return keys


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = settings.REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        service_missing(f"Redis at {url} is not reachable ({exc})")
    return url


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisArtifactStore]:
    """A store under a key prefix of its own, removed afterwards."""
    import redis

    prefix = f"conductor-test:{uuid.uuid4().hex}:"
    yield RedisArtifactStore(url=redis_url, prefix=prefix, policy=ContentPolicy(compress_min_bytes=1024))
    client = redis.Redis.from_url(redis_url)
    if keys := list(client.scan_iter(match=f"{prefix}*", count=1000)):
        client.delete(*keys)
    client.close()
