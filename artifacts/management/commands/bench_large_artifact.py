"""Save and download one large artifact through the configured store and report the memory it took.

The content is generated chunk by chunk and saved with `save_stream`, then read back with
`open_content`, so neither side ever holds it whole; the peak resident set size of this process
shows whether the store does.
"""

from __future__ import annotations

import hashlib
import random
import resource
import time
from collections.abc import AsyncIterator

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError, CommandParser

from artifacts.store import Artifact, ArtifactStore, get_artifact_store

CHUNK = 1024 * 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def generated_text(size: int, seed: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    """`size` bytes of hex text (compresses about 2:1, like real code rather than like zeros)."""
    rng = random.Random(seed)
    sent = 0
    while sent < size:
        chunk = rng.randbytes(min(CHUNK, size - sent) // 2 + 1).hex().encode()[: min(CHUNK, size - sent)]
        digest.update(chunk)
        sent += len(chunk)
        yield chunk


class Command(BaseCommand):
    help = "Save and stream back a large artifact through the configured store; print time and peak memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size-mb", type=int, default=100, help="Content size in MiB (default 100).")
        parser.add_argument("--keep", action="store_true", help="Keep the artifact instead of deleting it.")
        parser.add_argument(
            "--create-bucket", action="store_true", help="Create the CONDUCTOR_S3_BUCKET first (development servers)."
        )

    def handle(self, *args: object, size_mb: int, keep: bool, create_bucket: bool, **options: object) -> None:
        if size_mb < 1:
            raise CommandError("--size-mb must be at least 1.")
        store = get_artifact_store()
        if create_bucket:
            storage = getattr(getattr(store, "policy", None), "object_storage", None)
            if storage is None:
                raise CommandError("--create-bucket needs object storage (set CONDUCTOR_S3_BUCKET).")
            storage.create_bucket()
        async_to_sync(self._run)(store, size_mb * CHUNK, keep)

    async def _run(self, store: ArtifactStore, size: int, keep: bool) -> None:
        await store.count()  # connect first, so the baseline includes the connection
        baseline = peak_rss_mib()
        shell = Artifact(workflow_id="bench", task_id="bench", agent_id="bench", artifact_type="test_data", content="")
        sent = hashlib.sha256()
        started = time.perf_counter()
        await store.save_stream(shell, generated_text(size, 42, sent))
        saved_in = time.perf_counter() - started
        after_save = peak_rss_mib()

        info = await store.content_info(shell.artifact_id)
        stream = await store.open_content(shell.artifact_id)
        assert info is not None and stream is not None
        received, got = hashlib.sha256(), 0
        started = time.perf_counter()
        async for chunk in stream.chunks:
            received.update(chunk)
            got += len(chunk)
        read_in = time.perf_counter() - started
        after_read = peak_rss_mib()
        if not keep:
            await store.delete(shell.artifact_id)

        if received.digest() != sent.digest() or got != size:
            raise CommandError("The content read back differs from the content saved.")
        mib = size / CHUNK
        self.stdout.write(
            f"backend: {type(store).__name__}; placement: {info.location}, {info.encoding}; "
            f"content: {mib:.0f} MiB, stored: {info.stored_size / CHUNK:.1f} MiB\n"
            f"save: {saved_in:.1f} s, peak RSS +{after_save - baseline:.1f} MiB\n"
            f"download: {read_in:.1f} s, peak RSS +{after_read - baseline:.1f} MiB (save and download together)\n"
            f"baseline peak RSS: {baseline:.1f} MiB; content verified by SHA-256"
        )
