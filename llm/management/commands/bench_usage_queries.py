"""Seed a million LLM calls in a throwaway database and time the usage queries over 30 days.

    python manage.py bench_usage_queries                 # 1,000,000 calls, 30 days
    python manage.py bench_usage_queries --calls 200000 --keep

The calls look like real work: 10,000 workflows of about two hours each, spread over the period,
each run by five of 50 agents, every agent on one of five provider configs (one with no known
price). Rows go in with PostgreSQL COPY with the rollup trigger off, then the rollup is rebuilt in
one statement; the trigger's own cost is measured separately on a smaller batch.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from llm import usage
from llm.models import LLMCall, ProviderConfig

BENCH_DATABASE = "conductor_bench"
AGENTS = 50
WORKFLOWS = 10_000
AGENTS_PER_WORKFLOW = 5
# name, provider, model, $/M input, $/M output (None: no known price)
CONFIGS = [
    ("gpt-4o", "openai", "gpt-4o", Decimal("2.5"), Decimal("10")),
    ("gpt-4o-mini", "openai", "gpt-4o-mini", Decimal("0.15"), Decimal("0.6")),
    ("claude-sonnet", "anthropic", "claude-sonnet-4-5", Decimal("3"), Decimal("15")),
    ("claude-haiku", "anthropic", "claude-haiku-4-5", Decimal("1"), Decimal("5")),
    ("local-llama", "openai-compatible", "llama3.1:8b", None, None),
]
COLUMNS = [
    "created_at",
    "config_id",
    "config_name",
    "provider",
    "model",
    "system",
    "prompt",
    "response",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "usage_source",
    "cost_usd",
    "saved_usd",
    "price_source",
    "status",
    "error_class",
    "error_message",
    "streamed",
    "latency_ms",
    "time_to_first_token_ms",
    "request_params",
    "metadata",
    "cache_key",
    "agent_id",
    "workflow_id",
    "task_id",
]
SYSTEM = "You are a careful senior engineer. Answer with code and a short explanation."
PROMPTS = [
    "Write a Python function that parses ISO-8601 durations and returns a timedelta. Include edge cases. " * 2,
    "Review this diff for correctness, security and style; list blocking issues first, then suggestions. " * 2,
    "Write pytest tests for the payment retry module covering timeouts, idempotency keys and backoff. " * 2,
]
RESPONSE = "def parse_duration(text: str) -> timedelta:\n    ...\n" * 8


class Command(BaseCommand):
    help = "Seed LLM calls in a throwaway database and print the usage query timings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calls", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--runs", type=int, default=5, help="Timed runs per query (after one warm-up).")
        parser.add_argument("--keep", action="store_true", help=f"Keep the {BENCH_DATABASE} database afterwards.")

    def handle(self, *args: Any, calls: int, days: int, runs: int, keep: bool, **options: Any) -> None:
        # A connection pool would stay bound to the first database it reached: use plain connections.
        connection.close()
        connection.close_pool()
        connection.settings_dict["OPTIONS"] = {**connection.settings_dict.get("OPTIONS", {}), "pool": False}
        connection.settings_dict.setdefault("TEST", {})["NAME"] = BENCH_DATABASE
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_database()")
                if cursor.fetchone()[0] != BENCH_DATABASE:
                    raise CommandError(f"Not connected to {BENCH_DATABASE}; refusing to seed another database.")
            self._bench(calls=calls, days=days, runs=runs)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=keep)
            if keep:
                self.stdout.write(f"Kept the {BENCH_DATABASE} database.")

    def _bench(self, *, calls: int, days: int, runs: int) -> None:
        now = timezone.now()
        configs = [
            ProviderConfig.objects.create(
                name=name,
                provider=provider,
                model=model,
                base_url="http://localhost:11434/v1" if provider == "openai-compatible" else "",
            )
            for name, provider, model, *_ in CONFIGS
        ]
        started = time.perf_counter()
        self._copy(calls, days, now, configs)
        copied = time.perf_counter() - started
        started = time.perf_counter()
        rollup_rows = usage.rebuild_usage_rollup()
        rebuilt = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE llm_llmcall")
            cursor.execute("VACUUM ANALYZE llm_llmusagehourly")
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('llm_llmcall'))")
            size = cursor.fetchone()[0]
        self.stdout.write(
            f"Seeded {calls:,} calls over {days} days with COPY in {copied:.1f} s ({calls / copied:,.0f} rows/s), "
            f"table {size}; rollup rebuilt in {rebuilt:.1f} s: {rollup_rows:,} hourly rows "
            f"({calls / max(rollup_rows, 1):.1f} calls per row)."
        )
        self._trigger_cost(now, configs)

        since = now - timedelta(days=days)
        workflows = [f"wf-{n:05d}" for n in random.Random(1).sample(range(WORKFLOWS), 50)]
        agents = [f"agent-{n:02d}" for n in range(AGENTS)]
        page = usage.call_page(filters=usage.CallFilters(), limit=50)
        deep_cursor = page.next_cursor
        for _ in range(200):  # 10,000 rows in
            deep_cursor = usage.call_page(filters=usage.CallFilters(), limit=50, cursor=deep_cursor).next_cursor
        queries: list[tuple[str, Callable[[], object]]] = [
            ("totals, 30 days", lambda: usage.usage_totals(since=since)),
            ("by provider, 30 days", lambda: usage.usage_by_provider(since=since)),
            ("by model, 30 days", lambda: usage.usage_by_model(since=since)),
            ("by agent, 30 days", lambda: usage.usage_by_agent(since=since)),
            ("by workflow, 30 days (10,000 rows)", lambda: usage.usage_by_workflow(since=since)),
            ("by workflow, 30 days, top 20", lambda: usage.usage_by_workflow(since=since, limit=20)),
            ("by config, 30 days", lambda: usage.usage_by_config(since=since)),
            ("by day, 30 days", lambda: usage.usage_by_day(since=since)),
            ("series by hour, 30 days", lambda: usage.usage_series(since=since, bucket="hour")),
            ("by model, one agent, 30 days", lambda: usage.usage_by_model(since=since, agent_id="agent-07")),
            ("by agent, one workflow", lambda: usage.usage_by_agent(since=since, workflow_id=workflows[0])),
            ("by model, one config, 30 days", lambda: usage.usage_by_model(since=since, config="gpt-4o")),
            ("usage_for_workflows, 50 ids", lambda: usage.usage_for_workflows(workflow_ids=workflows)),
            ("usage_for_agents, 50 ids", lambda: usage.usage_for_agents(agent_ids=agents)),
            ("call list, first page", lambda: usage.call_page(filters=usage.CallFilters(), limit=50)),
            (
                "call list, after 10,000 rows",
                lambda: usage.call_page(filters=usage.CallFilters(), limit=50, cursor=deep_cursor),
            ),
            (
                "call list, one agent",
                lambda: usage.call_page(filters=usage.CallFilters(agent_id="agent-07"), limit=50),
            ),
            (
                "call list, errors only",
                lambda: usage.call_page(filters=usage.CallFilters(status="error"), limit=50),
            ),
            ("(for comparison) by model on raw rows, no rollup", lambda: _raw_by_model(since)),
        ]
        self.stdout.write(f"\n{'query':<52} {'min':>9} {'median':>9} {'max':>9}")
        for label, query in queries:
            query()  # warm-up
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                query()
                timings.append((time.perf_counter() - started) * 1000)
            self.stdout.write(
                f"{label:<52} {min(timings):>7.1f}ms {statistics.median(timings):>7.1f}ms {max(timings):>7.1f}ms"
            )

    def _copy(self, calls: int, days: int, now, configs: list[ProviderConfig]) -> None:
        rng = random.Random(42)
        span = timedelta(days=days) - timedelta(hours=2)
        agent_config = [configs[n % len(configs)] for n in range(AGENTS)]
        price = {c.name: (i, o) for (c, (*_, i, o)) in zip(configs, CONFIGS, strict=True)}
        per_workflow = calls // WORKFLOWS
        extra = calls - per_workflow * WORKFLOWS
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE llm_llmcall DISABLE TRIGGER llm_usage_hourly")
            raw = cursor.cursor
            with raw.copy(f"COPY llm_llmcall ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for w in range(WORKFLOWS):
                    workflow_id = f"wf-{w:05d}"
                    start = now - timedelta(days=days) + span * rng.random()
                    agents = rng.sample(range(AGENTS), AGENTS_PER_WORKFLOW)
                    for n in range(per_workflow + (1 if w < extra else 0)):
                        agent = agents[n % AGENTS_PER_WORKFLOW]
                        config = agent_config[agent]
                        copy.write_row(
                            _row(rng, start, workflow_id, f"agent-{agent:02d}", n, config, price[config.name])
                        )
            cursor.execute("ALTER TABLE llm_llmcall ENABLE TRIGGER llm_usage_hourly")

    def _trigger_cost(self, now, configs: list[ProviderConfig]) -> None:
        """Time 10,000 single-row inserts with and without the rollup trigger."""
        rng = random.Random(7)
        config = configs[0]
        price = (CONFIGS[0][3], CONFIGS[0][4])
        timings = {}
        for label, enabled in (("without", False), ("with", True)):
            rows = [_row(rng, now, "wf-trigger", "agent-00", n, config, price) for n in range(10_000)]
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            with connection.cursor() as cursor:
                if not enabled:
                    cursor.execute("ALTER TABLE llm_llmcall DISABLE TRIGGER llm_usage_hourly")
                started = time.perf_counter()
                for row in rows:
                    cursor.execute(f"INSERT INTO llm_llmcall ({', '.join(COLUMNS)}) VALUES ({placeholders})", row)
                timings[label] = (time.perf_counter() - started) / len(rows) * 1_000_000
                cursor.execute("ALTER TABLE llm_llmcall ENABLE TRIGGER llm_usage_hourly")
        self.stdout.write(
            f"One recorded call: {timings['without']:.0f} µs to insert without the rollup trigger, "
            f"{timings['with']:.0f} µs with it."
        )


def _row(rng: random.Random, start, workflow_id: str, agent_id: str, n: int, config: ProviderConfig, price) -> tuple:
    created_at = start + timedelta(seconds=rng.random() * 7200)
    prompt_tokens = rng.randint(300, 6000)
    completion_tokens = rng.randint(50, 1500)
    cache_read = prompt_tokens // 2 if rng.random() < 0.3 else 0
    roll = rng.random()
    status = "error" if roll < 0.03 else "cached" if roll < 0.05 else "ok"
    input_price, output_price = price
    if status == "error":
        completion_tokens = 0
    if input_price is None:
        cost = None
    elif status == "cached":
        cost = Decimal(0)
    else:
        cost = (
            (prompt_tokens - cache_read) * input_price
            + cache_read * input_price / 10
            + completion_tokens * output_price
        ) / 1_000_000
    return (
        created_at,
        config.pk,
        config.name,
        config.provider,
        config.model,
        SYSTEM,
        PROMPTS[n % len(PROMPTS)],
        "" if status == "error" else RESPONSE,
        "error" if status == "error" else "stop",
        prompt_tokens,
        completion_tokens,
        prompt_tokens + completion_tokens,
        cache_read,
        0,
        "vendor",
        cost,
        Decimal("0.0042") if status == "cached" else None,
        "unknown" if input_price is None else "cache" if status == "cached" else "genai-prices",
        status,
        "LLMProviderUnavailableError" if status == "error" else "",
        "503 overloaded" if status == "error" else "",
        n % 3 == 0,
        rng.randint(300, 20000),
        rng.randint(100, 900) if n % 3 == 0 else None,
        '{"temperature": 0.2, "max_tokens": 4096}',
        "{}",
        "",
        agent_id,
        workflow_id,
        f"task-{workflow_id}-{n // 10}",
    )


def _raw_by_model(since) -> list:
    return list(
        LLMCall.objects.filter(created_at__gte=since).values("model").annotate(**usage._RAW_AGGREGATES).order_by()
    )
