"""`manage.py bench_mock_provider`: what one call to MockLLMProvider costs, so tests and demos can budget it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from django.core.management.base import BaseCommand, CommandParser

from llm.providers import MockLLMProvider

PROMPT = "Write pytest tests for the order module"


class Command(BaseCommand):
    help = "Measure the per-call overhead of the mock LLM provider (generate and streaming)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calls", type=int, default=20_000, help="generate() calls per measurement")
        parser.add_argument("--streams", type=int, default=2_000, help="streams per measurement")
        parser.add_argument("--repeat", type=int, default=3, help="measurements; the best is reported")

    def handle(self, *args: object, calls: int, streams: int, repeat: int, **options: object) -> None:
        rows = asyncio.run(self._measure(calls=calls, streams=streams, repeat=repeat))
        self.stdout.write(f"{'case':<44} {'calls':>8} {'calls/s':>10} {'µs/call':>9}")
        for name, count, seconds in rows:
            self.stdout.write(f"{name:<44} {count:>8} {count / seconds:>10,.0f} {seconds / count * 1e6:>9.1f}")

    async def _measure(self, *, calls: int, streams: int, repeat: int) -> list[tuple[str, int, float]]:
        provider = MockLLMProvider()
        queued = MockLLMProvider()
        chunk_count = len([chunk async for chunk in provider.generate_stream(PROMPT)])

        async def generate_default() -> None:
            await provider.generate(PROMPT)

        async def generate_queued() -> None:
            queued.queue_response("Mocked code output")
            await queued.generate("Write code")

        async def stream_default() -> None:
            async for _chunk in provider.generate_stream(PROMPT):
                pass

        async def stream_closed_early() -> None:
            stream = provider.generate_stream(PROMPT)
            await anext(stream)
            await stream.aclose()

        cases: list[tuple[str, int, Callable[[], Awaitable[None]]]] = [
            ("generate (default pytest file)", calls, generate_default),
            ("generate (queued response)", calls, generate_queued),
            (f"generate_stream, read to end ({chunk_count} chunks)", streams, stream_default),
            ("generate_stream, closed after 1 chunk", streams, stream_closed_early),
        ]
        rows = []
        for name, count, call in cases:
            best = min([await _time(call, count) for _ in range(repeat)])
            provider.clear_history()
            queued.clear_history()
            rows.append((name, count, best))
        return rows


async def _time(call: Callable[[], Awaitable[None]], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await call()
    return time.perf_counter() - started
