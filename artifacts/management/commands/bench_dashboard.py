"""Seed a million artifacts and time the dashboard's hot pages, in process, like a server would run them.

    python manage.py bench_dashboard                 # seed once (kept for later runs), then time
    python manage.py bench_dashboard --reseed        # throw the data away and seed again

The data goes to its own database (default `conductor_bench`) on the configured server, never the
dashboard's own. Timings are server time: Django's test Client calls the whole middleware stack and
view in this process, signed in, and the median of several runs is printed.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, connections
from django.test import Client

from artifacts.queries import ArtifactFilters, artifact_page
from artifacts.store.artifact import DEFAULT_ARTIFACT_TYPES

# 48 made-up words, so a full-text search matches about 1 artifact in 24.
WORDS = [
    a + b for a in ("ka", "lo", "mi", "nu", "pe", "ra", "so", "ti") for b in ("ber", "dan", "fix", "gol", "hup", "jin")
]
COLUMNS = (
    "artifact_id", "workflow_id", "task_id", "agent_id", "artifact_type", "content", "metadata", "created_at",
    "content_encoding", "content_location", "object_key", "original_size", "stored_size", "sha256", "search_text",
)  # fmt: skip
TASKS_PER_WORKFLOW = 10
AGENTS_PER_WORKFLOW = 5


class Command(BaseCommand):
    help = "Seed 1,000,000 artifacts (10,000 workflows, 50 agents) in a separate database and time the dashboard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--artifacts", type=int, default=1_000_000)
        parser.add_argument("--workflows", type=int, default=10_000)
        parser.add_argument("--agents", type=int, default=50)
        parser.add_argument("--calls", type=int, default=1_000_000, help="recorded LLM calls, over the last 30 days")
        parser.add_argument("--runs", type=int, default=9, help="timed runs per page (the median is reported)")
        parser.add_argument("--database", default="conductor_bench", help="database to create and fill")
        parser.add_argument("--reseed", action="store_true", help="delete the benchmark data and seed again")

    def handle(self, *args: Any, **options: Any) -> None:
        self._use_database(options["database"])
        call_command("migrate", verbosity=0)
        from artifacts.models import ArtifactRecord
        from llm.models import LLMCall

        if options["reseed"] or ArtifactRecord.objects.count() != options["artifacts"]:
            self._seed(options["artifacts"], options["workflows"], options["agents"])
        if options["reseed"] or LLMCall.objects.count() != options["calls"]:
            self._seed_calls(options["calls"], options["workflows"], options["agents"])
        self._time_pages(options["runs"], options["workflows"], options["agents"])

    def _use_database(self, name: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        for conn in connections.all():
            conn.close()
            conn.close_pool()
        connection.settings_dict["NAME"] = name
        self.stdout.write(f"Benchmark database: {name}")

    def _seed(self, total: int, workflows: int, agents: int) -> None:
        started = time.perf_counter()
        raw = connection.cursor().connection  # the psycopg connection, for COPY
        with raw.cursor() as cursor:
            cursor.execute("TRUNCATE artifacts_artifact CASCADE")  # its content chunks go too
            # Indexes are rebuilt once at the end: far faster than maintaining them row by row.
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'artifacts_artifact'"
                " AND indexname NOT LIKE '%%_pkey'"
            )
            indexes = cursor.fetchall()
            for index_name, _ in indexes:
                cursor.execute(f'DROP INDEX "{index_name}"')
            copy_sql = f"COPY artifacts_artifact ({', '.join(COLUMNS)}) FROM STDIN"
            batch = 100_000
            rows = _rows(total, workflows, agents)
            written = 0
            while written < total:
                with cursor.copy(copy_sql) as copy:
                    for _ in range(min(batch, total - written)):
                        copy.write_row(next(rows))
                        written += 1
                self.stdout.write(f"  copied {written:,} rows ({time.perf_counter() - started:.0f} s)")
            for index_name, definition in indexes:
                cursor.execute(definition)
                self.stdout.write(f"  rebuilt {index_name} ({time.perf_counter() - started:.0f} s)")
        with connection.cursor() as cursor:  # Django's connection is in autocommit mode, as VACUUM needs
            cursor.execute("VACUUM ANALYZE")
        self.stdout.write(f"Seeded {total:,} artifacts in {time.perf_counter() - started:.0f} s")

    def _seed_calls(self, total: int, workflows: int, agents: int) -> None:
        from llm.usage import rebuild_usage_rollup

        started = time.perf_counter()
        raw = connection.cursor().connection
        with raw.cursor() as cursor:
            cursor.execute("TRUNCATE llm_llmcall CASCADE")
            cursor.execute("TRUNCATE llm_llmusagehourly")
            # The per-row rollup trigger is for live traffic; a bulk load rebuilds the rollup once instead.
            cursor.execute("ALTER TABLE llm_llmcall DISABLE TRIGGER USER")
            try:
                copy_sql = f"COPY llm_llmcall ({', '.join(CALL_COLUMNS)}) FROM STDIN"
                with cursor.copy(copy_sql) as copy:
                    for row in _call_rows(total, workflows, agents):
                        copy.write_row(row)
            finally:
                cursor.execute("ALTER TABLE llm_llmcall ENABLE TRIGGER USER")
        self.stdout.write(f"  copied {total:,} calls ({time.perf_counter() - started:.0f} s)")
        rows = rebuild_usage_rollup()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE llm_llmcall")
            cursor.execute("VACUUM ANALYZE llm_llmusagehourly")
        self.stdout.write(
            f"Seeded {total:,} LLM calls ({rows:,} hourly rollup rows) in {time.perf_counter() - started:.0f} s"
        )

    def _time_pages(self, runs: int, workflows: int, agents: int) -> None:
        settings.DEBUG = False  # no query log: time what production would run
        warnings.filterwarnings("ignore", message="No directory at")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
        client = Client()
        client.force_login(user)

        agent = _agent_id(7)
        workflow = _workflow_id(workflows // 2)
        deep_all = _cursor_after(ArtifactFilters(), 10_000)
        deep_agent = _cursor_after(ArtifactFilters(agent_id=agent), 10_000)
        from artifacts.models import ArtifactRecord

        sample = (
            ArtifactRecord.objects.filter(workflow_id=workflow).values("artifact_id", "task_id", "agent_id").first()
        )
        since = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
        pages = [
            ("artifact list, first page, no filter", "/artifacts/"),
            ("artifact list, deep page (after 10,000 rows), no filter", f"/artifacts/?cursor={deep_all}"),
            ("artifact list, filtered by agent", f"/artifacts/?agent={agent}"),
            (
                "artifact list, filtered by agent, deep page (after 10,000)",
                f"/artifacts/?agent={agent}&cursor={deep_agent}",
            ),
            ("artifact list, filtered by agent + type", f"/artifacts/?agent={agent}&type=review"),
            (
                "artifact list, filtered by workflow + agent",
                f"/artifacts/?workflow={workflow}&agent={sample['agent_id']}",
            ),
            ("artifact list, filtered by type + date range", f"/artifacts/?type=config&since={since}"),
            ("artifact list, full-text search", "/artifacts/?q=midan"),
            ("artifact list, htmx filter swap (agent)", f"/artifacts/?agent={agent}", {"HX-Request": "true"}),
            ("workflow page", f"/workflows/{workflow}/"),
            ("workflows list", "/workflows/"),
            ("agents page", "/agents/"),
            ("agent page", f"/agents/{agent}/"),
            ("task page", f"/tasks/{sample['task_id']}/"),
            ("artifact page", f"/artifacts/{sample['artifact_id']}/"),
            ("home, last 7 days", "/?period=7d"),
            ("home, all time", "/?period=all"),
            ("usage page, last 30 days", "/usage/"),
            ("usage page, last 24 hours", "/usage/?period=24h"),
            ("usage page, one agent, 30 days", f"/usage/?agent={agent}"),
            ("call list", "/usage/calls/"),
            ("call list, filtered by workflow", f"/usage/calls/?workflow={workflow}"),
        ]
        self.stdout.write(f"\nServer time per page, median of {runs} runs (min – max), in ms; rows shown:")
        for label, url, *headers in pages:
            extra = headers[0] if headers else {}
            client.get(url, headers=extra)  # warm up
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(url, headers=extra)
                times.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")
            shown = response.content.count(b"<tr") + response.content.count(b'<li class="task-group"')
            median, low, high = statistics.median(times), min(times), max(times)
            self.stdout.write(f"  {median:7.1f}  ({low:6.1f} – {high:6.1f})  {shown:4d} rows  {label}")


CALL_COLUMNS = (
    "created_at", "config_name", "provider", "model", "system", "prompt", "response", "finish_reason",
    "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
    "usage_source", "cost_usd", "price_source", "status", "error_class", "error_message", "streamed",
    "latency_ms", "request_params", "metadata", "cache_key", "agent_id", "workflow_id", "task_id",
)  # fmt: skip
MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-haiku"), ("mock", "mock-model"))


def _call_rows(total: int, workflows: int, agents: int) -> Iterator[tuple[object, ...]]:
    """Calls as workflows make them: each workflow runs for about two hours somewhere in the last 30 days,
    its crew of agents each on one model. 1 in 50 calls failed, 1 in 100 has no known price."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    window = timedelta(days=30) - timedelta(hours=3)
    for n in range(total):
        w = rng.randrange(workflows)
        workflow = _workflow_id(w)
        agent_index = (w * 7 + rng.randrange(AGENTS_PER_WORKFLOW) * 11) % agents
        provider, model = MODELS[agent_index % len(MODELS)]
        started = now - timedelta(days=30) + window * (w / workflows)
        prompt_tokens, completion_tokens = rng.randrange(50, 4000), rng.randrange(10, 1000)
        failed = n % 50 == 0
        unpriced = n % 100 == 1
        yield (
            started + timedelta(seconds=rng.randrange(7200)),
            provider,
            provider,
            model,
            "",
            f"prompt {n}",
            "" if failed else f"response {n}",
            "" if failed else "stop",
            prompt_tokens,
            0 if failed else completion_tokens,
            prompt_tokens + (0 if failed else completion_tokens),
            0,
            0,
            "vendor",
            None if unpriced else Decimal(prompt_tokens * 15 + completion_tokens * 60) / Decimal(100_000_000),
            "unknown" if unpriced else "genai-prices",
            "error" if failed else "ok",
            "RateLimitError" if failed else "",
            "rate limited" if failed else "",
            False,
            rng.randrange(100, 5000),
            "{}",
            "{}",
            "",
            _agent_id(agent_index),
            workflow,
            f"{workflow}-task-{rng.randrange(TASKS_PER_WORKFLOW):02d}",
        )


def _workflow_id(n: int) -> str:
    return f"wf-{n:05d}"


def _agent_id(n: int) -> str:
    return f"agent-{n:02d}"


def _cursor_after(filters: ArtifactFilters, rows: int) -> str:
    """The cursor after `rows` rows (fewer on a small data set, but always at least one page)."""
    from artifacts.models import ArtifactRecord

    rows = max(50, min(rows, ArtifactRecord.objects.filter(filters.as_q()).count() // 2))
    cursor = None
    for _ in range(rows // 50):
        cursor = artifact_page(filters=filters, limit=50, cursor=cursor).next_cursor
    assert cursor is not None, "not enough rows for a deep page"
    return cursor


def _rows(total: int, workflows: int, agents: int) -> Iterator[tuple[object, ...]]:
    """Workflows of ~total/workflows artifacts over the last 90 days, each with its tasks and agents."""
    rng = random.Random(42)
    now = datetime.now(UTC)
    per_workflow, extra = divmod(total, workflows)
    types = DEFAULT_ARTIFACT_TYPES
    n = 0
    for w in range(workflows):
        count = per_workflow + (1 if w < extra else 0)
        started = now - timedelta(days=90) + timedelta(seconds=rng.randrange(90 * 86400 - 3600))
        crew = [_agent_id(a) for a in rng.sample(range(agents), min(AGENTS_PER_WORKFLOW, agents))]
        for i in range(count):
            n += 1
            content = f"def step_{i}(x):\n    # {rng.choice(WORDS)} {rng.choice(WORDS)}\n    return x + {i}\n"
            size = len(content.encode())
            yield (
                f"art-bench-{n:08d}",
                _workflow_id(w),
                f"{_workflow_id(w)}-task-{i * TASKS_PER_WORKFLOW // max(count, 1):02d}",
                crew[i % len(crew)],
                types[i % len(types)],
                content,
                f'{{"language": "python", "title": "step_{i}.py", "n": {i}}}',
                started + timedelta(seconds=i * 7),
                "identity",
                "database",
                "",
                size,
                size,
                hashlib.sha256(content.encode()).hexdigest(),
                "",
            )
