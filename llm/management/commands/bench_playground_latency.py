"""How long a streamed chunk takes from the provider to the playground's client: the overhead the page adds.

    python manage.py bench_playground_latency                      # 30 runs of 1 and of 3 columns at once
    python manage.py bench_playground_latency --runs 50 --delay 0.05 --columns 1 2 4

The project is served by uvicorn (ASGI) in this process, as `./dev run` serves it. A mock config streams
word-sized chunks at a known pace (`stream_delay_seconds`); every `chunk` event carries `at`, the wall
time when the chunk came out of the recorded provider stream, and an HTTP client here (httpx, streaming)
notes when it has read and parsed that event. The difference is the page's overhead: the SSE formatting,
Django's ASGI handler, uvicorn and the loopback socket. The command adds a config, a user and the calls it
makes to the current database, and deletes them afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import statistics
import threading
import time
from typing import Any

import httpx
import uvicorn
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.asgi import get_asgi_application
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client

from llm.models import LLMCall, ProviderConfig

PROMPT = "hi"  # the mock's general answer: 16 word-sized chunks
CSRF_SECRET = "benchplaygroundlatency0123456789"  # 32 letters and digits


class Command(BaseCommand):
    help = "Measure the time from the provider yielding a chunk to the playground's client receiving it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=30, help="Streams per column count (after a warm-up).")
        parser.add_argument("--delay", type=float, default=0.02, help="Seconds the mock waits before each chunk.")
        parser.add_argument("--columns", type=int, nargs="+", default=[1, 3], help="Columns streamed at once.")

    def handle(self, *args: Any, runs: int, delay: float, columns: list[int], **options: Any) -> None:
        if runs < 1 or delay < 0 or min(columns) < 1:
            raise CommandError("--runs and --columns must be at least 1, and --delay at least 0.")
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
        tag = secrets.token_hex(4)
        config = ProviderConfig.objects.create(
            name=f"bench-playground-{tag}",
            provider="mock",
            model="mock-model",
            options={"stream_delay_seconds": delay},
            input_price_per_million=0,
            output_price_per_million=0,
        )
        user = get_user_model().objects.create_user(f"bench-playground-{tag}", password=secrets.token_urlsafe())
        client = Client()
        client.force_login(user)
        cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
        cookies["csrftoken"] = CSRF_SECRET
        server = _Server()
        try:
            with server:
                self.stdout.write(
                    f"Playground stream latency: a mock config streaming one chunk every {delay * 1000:g} ms, "
                    f"served by uvicorn {uvicorn.__version__} (ASGI) on {server.url}"
                )
                self.stdout.write(
                    f"{'columns':>7}  {'streams':>7}  {'chunks':>6}  "
                    f"{'first chunk: median':>20}  {'p95':>8}  {'all chunks: median':>19}  {'p95':>8}  {'max':>8}"
                )
                for count in columns:
                    result = async_to_sync(_measure)(server.url, cookies, config.name, runs=runs, columns=count)
                    first, every = result
                    self.stdout.write(
                        f"{count:>7}  {runs * count:>7}  {len(every):>6}  "
                        f"{_ms(statistics.median(first)):>20}  {_ms(_p95(first)):>8}  "
                        f"{_ms(statistics.median(every)):>19}  {_ms(_p95(every)):>8}  {_ms(max(every)):>8}"
                    )
        finally:
            LLMCall.objects.filter(config_name=config.name).delete()
            config.delete()
            user.delete()


async def _measure(
    url: str, cookies: dict[str, str], config: str, *, runs: int, columns: int
) -> tuple[list[float], list[float]]:
    """Overheads in seconds: of each stream's first chunk, and of every chunk."""
    first: list[float] = []
    every: list[float] = []
    async with httpx.AsyncClient(
        base_url=url,
        cookies=cookies,
        headers={"X-CSRFToken": CSRF_SECRET},
        timeout=30,
        limits=httpx.Limits(max_connections=columns + 1),
    ) as client:
        await _stream(client, config)  # warm-up: imports, connections, the first session read
        for _ in range(runs):
            for delays in await asyncio.gather(*(_stream(client, config) for _ in range(columns))):
                first.append(delays[0])
                every.extend(delays)
    return first, every


async def _stream(client: httpx.AsyncClient, config: str) -> list[float]:
    delays: list[float] = []
    event = ""
    async with client.stream("POST", "/playground/stream", data={"config": config, "prompt": PROMPT}) as response:
        if response.status_code != 200:
            raise CommandError(f"The playground answered {response.status_code}: {await response.aread()!r}")
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if event == "chunk":
                    delays.append(time.time() - data["at"])
                elif event == "error":
                    raise CommandError(f"The stream failed: {data['message']}")
    if not delays:
        raise CommandError("The stream sent no chunks.")
    return delays


class _Server:
    """uvicorn serving the project in a thread of this process, on a free port."""

    def __init__(self) -> None:
        config = uvicorn.Config(
            get_asgi_application(), host="127.0.0.1", port=0, lifespan="off", log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="bench-uvicorn", daemon=True)
        self.url = ""

    def __enter__(self) -> _Server:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise CommandError("uvicorn did not start.")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"
