"""Load test: the production server under steady concurrent load, bounded in time.

    python manage.py loadtest                       # 3 scenarios × 10 s, 2 workers, 16 connections
    python manage.py loadtest --seconds 30 --workers 4 --connections 32

Runs in a database of its own (`conductor_load`, created and dropped on the configured server), so the
dev data is never touched: the command re-runs itself there with the production configuration (DEBUG=0,
hashed static files through whitenoise, `manage.py serve` with several uvicorn workers), seeds artifacts,
a user with a session and an API token, then drives each scenario with an asyncio httpx client keeping
`--connections` requests in flight:

- the artifact list page (`GET /artifacts/`, logged in),
- the artifact API list (`GET /api/artifacts?limit=50`, token),
- the recorded mock `generate` endpoint (`POST /api/llm/generate` on the free `mock` config; each call
  is written to the ledger) — when the API has it.

It prints requests per second, p50/p99 latency and errors per scenario, and the server's memory (RSS of
the serve process and its workers) at the start, the middle and the end of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import psutil
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from conductor_site.local_servers import free_port, scratch_database, wait_until_answers

LOAD_DB = "conductor_load"


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    json: dict[str, Any] | None = None
    session: bool = False


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    rss_mb: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else float("nan")


class Command(BaseCommand):
    help = "Load-test the production server: artifact list page, artifact API, mock generate (bounded in time)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=10, help="per scenario (default 10)")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="uvicorn workers")
        parser.add_argument("--connections", type=int, default=16, help="requests kept in flight (default 16)")
        parser.add_argument("--artifacts", type=int, default=2_000, help="artifacts to seed (default 2,000)")
        parser.add_argument("--inside", action="store_true", help="internal: run against the load database")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["inside"]:
            self._run(options)
            return
        with (
            scratch_database(settings.DATABASES["default"], LOAD_DB) as url,
            tempfile.TemporaryDirectory() as static_root,
        ):
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DEBUG": "0",
                "SECRET_KEY": "loadtest-only-" + "x" * 50,
                "ALLOWED_HOSTS": "127.0.0.1",
                "BEHIND_TLS_PROXY": "1",
                "STATIC_ROOT": static_root,
                "LOG_LEVEL": "WARNING",
                "DATABASE_POOL_MAX": str(max(10, options["connections"])),
            }
            argv = [sys.executable, "manage.py", "loadtest", "--inside"]
            for name in ("seconds", "workers", "connections", "artifacts"):
                argv += [f"--{name}", str(options[name])]
            subprocess.run(argv, env=env, cwd=settings.BASE_DIR, check=True)

    def _run(self, options: dict[str, Any]) -> None:
        call_command("migrate", verbosity=0)
        session_key, token = _seed(options["artifacts"])
        workers, connections, seconds = options["workers"], options["connections"], options["seconds"]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--collectstatic", "--port", str(port), "--workers", str(workers)],
            cwd=settings.BASE_DIR,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_answers(f"{base_url}/health/", server)
            scenarios = [
                Scenario("artifact list page", "GET", "/artifacts/", session=True),
                Scenario("artifact API list", "GET", "/api/artifacts?limit=50"),
                Scenario(
                    "mock generate (API)", "POST", "/api/llm/generate", {"config": "mock", "prompt": "Write code"}
                ),
            ]
            self.stdout.write(
                f"{workers} uvicorn workers (DEBUG=0, whitenoise), {connections} connections, {seconds:g} s each, "
                f"{options['artifacts']:,} artifacts"
            )
            columns = f"{'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
            self.stdout.write(f"{'scenario':<22} {columns}  server RSS MB (start → middle → end)")
            for scenario in scenarios:
                result = asyncio.run(_drive(base_url, scenario, session_key, token, connections, seconds, server.pid))
                if result is None:
                    self.stdout.write(f"{scenario.name:<22} skipped: {scenario.path} is not in this API yet")
                    continue
                rss = " → ".join(f"{mb:.0f}" for mb in result.rss_mb)
                self.stdout.write(
                    f"{scenario.name:<22} {len(result.latencies) + result.errors:>9,} "
                    f"{len(result.latencies) / result.seconds:>8,.0f} {result.percentile(0.5):>8.1f} "
                    f"{result.percentile(0.99):>8.1f} {result.errors:>7}  {rss}"
                )
                if result.errors:
                    self.stdout.write(f"    first error: {result.first_error}")
        finally:
            server.terminate()
            server.wait(timeout=30)


def _seed(count: int) -> tuple[str, str]:
    """Artifacts, a user with a logged-in session and an API token; the session key and the token."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from artifacts.store import Artifact, get_artifact_store
    from conductor_site.models import api_token_issue

    user = get_user_model().objects.create_user("load", password=None, is_staff=True)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    _, token = api_token_issue(user=user, name="load")

    content = "def step():\n    return 42\n" * 20
    artifacts = [
        Artifact(
            artifact_id=f"art-load-{n:05}",
            workflow_id=f"wf-{n % 20}",
            task_id=f"task-{n % 200}",
            agent_id=f"agent-{n % 7}",
            artifact_type="code",
            content=content,
            metadata={"n": n},
        )
        for n in range(count)
    ]
    store = get_artifact_store()
    for start in range(0, len(artifacts), 1000):
        async_to_sync(store.save_many)(artifacts[start : start + 1000])
    return session.session_key or "", token


async def _drive(
    base_url: str, scenario: Scenario, session_key: str, token: str, connections: int, seconds: float, pid: int
) -> Result | None:
    import httpx

    headers = {"X-Forwarded-Proto": "https"}  # as through the TLS proxy (BEHIND_TLS_PROXY=1)
    cookies = {settings.SESSION_COOKIE_NAME: session_key} if scenario.session else {}
    if not scenario.session:
        headers["Authorization"] = f"Bearer {token}"
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, cookies=cookies, timeout=30, limits=limits
    ) as client:
        probe = await client.request(scenario.method, scenario.path, json=scenario.json)
        if probe.status_code == 404 and scenario.path.startswith("/api/"):
            return None
        for _ in range(connections):  # warm up every connection and worker
            await client.request(scenario.method, scenario.path, json=scenario.json)
        result = Result()
        result.rss_mb.append(_server_rss_mb(pid))
        started = time.perf_counter()
        deadline = started + seconds

        async def sample_memory() -> None:
            await asyncio.sleep(seconds / 2)
            result.rss_mb.append(_server_rss_mb(pid))

        async def worker() -> None:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await client.request(scenario.method, scenario.path, json=scenario.json)
                except httpx.HTTPError as exc:
                    result.errors += 1
                    result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                    continue
                if response.status_code >= 300:
                    result.errors += 1
                    result.first_error = result.first_error or f"{response.status_code}: {response.text[:200]}"
                else:
                    result.latencies.append(time.perf_counter() - sent)

        await asyncio.gather(sample_memory(), *(worker() for _ in range(connections)))
        result.seconds = time.perf_counter() - started
        result.rss_mb.append(_server_rss_mb(pid))
    return result


def _server_rss_mb(pid: int) -> float:
    """Resident memory of the server: the serve process and all its workers."""
    parent = psutil.Process(pid)
    processes = [parent, *parent.children(recursive=True)]
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 1e6
