"""Benchmark: artifacts through the bulk API endpoint over real HTTP versus raw psycopg COPY.

Runs in a database of its own (`conductor_bench`, created and dropped on the same server as the
configured one), so the dev data is never touched. The command re-runs itself with DATABASE_URL
pointing there; that inner run migrates, starts uvicorn on a free port, posts the artifacts with
several concurrent httpx clients, truncates, COPYs the same rows, and prints both rates.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from artifacts import compression
from conductor_site.local_servers import free_port, libpq_conninfo, scratch_database, wait_until_answers

BENCH_DB = "conductor_bench"
BATCH = 1000
COLUMNS = ("artifact_id", "workflow_id", "task_id", "agent_id", "artifact_type", "content", "metadata", "created_at")
# What the store also writes for small content kept as plain text in the row (artifacts/store/orm.py).
PLACEMENT_COLUMNS = (
    "content_encoding",
    "content_location",
    "object_key",
    "search_text",
    "original_size",
    "stored_size",
    "sha256",
)


class Command(BaseCommand):
    help = "Post N artifacts of 1 KB through POST /api/artifacts/bulk and COPY the same rows; print both rates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=100_000, help="artifacts to insert (default 100,000)")
        parser.add_argument("--size", type=int, default=1024, help="content bytes per artifact (default 1024)")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="uvicorn worker processes")
        parser.add_argument("--clients", type=int, default=0, help="concurrent HTTP clients (default 2 per worker)")
        parser.add_argument("--inside", action="store_true", help="internal: run against the bench database")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["inside"]:
            self._run(options)
            return
        with scratch_database(settings.DATABASES["default"], BENCH_DB) as url:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DEBUG": "0",
                "SECRET_KEY": "bench-only-" + "x" * 50,
                "SECURE_SSL_REDIRECT": "0",
                "ALLOWED_HOSTS": "127.0.0.1",
                "LOG_LEVEL": "WARNING",
            }
            argv = [sys.executable, "manage.py", "bench_bulk_ingest", "--inside"]
            for name in ("count", "size", "workers", "clients"):
                argv += [f"--{name}", str(options[name])]
            subprocess.run(argv, env=env, cwd=settings.BASE_DIR, check=True)

    def _run(self, options: dict[str, Any]) -> None:
        from django.contrib.auth import get_user_model

        from conductor_site.models import api_token_issue

        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user("bench", is_staff=True)
        _, token = api_token_issue(user=user, name="bench")
        count, size, workers = options["count"], options["size"], options["workers"]
        clients = options["clients"] or 2 * workers
        rows = _rows(count, size)
        bodies = [
            json.dumps({"artifacts": [dict(zip(COLUMNS, row, strict=True)) for row in rows[i : i + BATCH]]}).encode()
            for i in range(0, count, BATCH)
        ]
        megabytes = sum(map(len, bodies)) / 1e6
        self.stdout.write(
            f"{count:,} artifacts of {size:,} B: {len(bodies)} requests of {BATCH}, {megabytes:.0f} MB of JSON"
        )

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "conductor_site.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_answers(f"{base_url}/api/health", server)
            api_seconds = asyncio.run(_post_all(base_url, token, bodies, clients))
        finally:
            server.terminate()
            server.wait(timeout=30)
        table = "artifacts_artifact"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == count, "the API did not store every artifact"
            cursor.execute(f"TRUNCATE {table} CASCADE")  # its content chunks go too

        copy_seconds = _copy_all(rows, table)
        api_rate, copy_rate = count / api_seconds, count / copy_seconds
        self.stdout.write(
            f"API bulk  ({workers} uvicorn workers, {clients} clients): {api_seconds:6.2f} s  {api_rate:9,.0f} rows/s"
        )
        self.stdout.write(
            f"COPY      (one psycopg connection):            {copy_seconds:6.2f} s  {copy_rate:9,.0f} rows/s"
        )
        self.stdout.write(f"API / COPY: {api_rate / copy_rate:.2f}  (aim: at least 0.33)")


def _rows(count: int, size: int) -> list[tuple[Any, ...]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    filler = ("def step():\n    return 42\n" * (size // 28 + 1))[:size]
    return [
        (
            f"art-bench-{n:07}",
            f"wf-{n % 1000}",
            f"task-{n % 10_000}",
            f"agent-{n % 50}",
            "code",
            filler,
            {"language": "python", "n": n},
            (start + timedelta(milliseconds=n)).isoformat(),
        )
        for n in range(count)
    ]


async def _post_all(base_url: str, token: str, bodies: list[bytes], clients: int) -> float:
    import httpx

    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as http:
            while not queue.empty():
                body = queue.get_nowait()
                response = await http.post("/api/artifacts/bulk", content=body)
                if response.status_code != 201:
                    raise RuntimeError(f"bulk POST answered {response.status_code}: {response.text[:500]}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started


def _copy_all(rows: list[tuple[Any, ...]], table: str) -> float:
    from artifacts.models import ArtifactRecord

    conninfo = libpq_conninfo(settings.DATABASES["default"])
    # The same row values the store writes, prepared before the clock starts: COPY is the floor.
    prepared = []
    for row in rows:
        raw = row[5].encode()
        placement = (compression.IDENTITY, ArtifactRecord.Location.DATABASE, "", "", len(raw), len(raw))
        prepared.append((*row[:6], json.dumps(row[6]), row[7], *placement, hashlib.sha256(raw).hexdigest()))
    columns = ", ".join((*COLUMNS, *PLACEMENT_COLUMNS))
    with psycopg.connect(conninfo) as conn:
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in prepared:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == len(rows)
    return seconds
