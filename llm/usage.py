"""Usage queries over the call ledger, shared by the dashboard and the JSON API.

Totals and time series of calls, tokens and cost, grouped by provider, model, agent, workflow, config
or day, filtered by time range, agent, workflow, config, provider and model; per-workflow and
per-agent summaries for pages that list them; and the keyset-paged call list.

Fast at any size: whole hours are read from the hourly rollup (`LLMUsageHourly`, kept exact by a
trigger), and only the partial hours at the edges of a range from the raw calls. Tokens and cost
count what the vendors consumed: cache hits add to `cached_calls` and `saved_usd` only. `cost_usd`
sums the calls with a known price; `unknown_cost_calls` says how many are missing from it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from django.db import connection
from django.db.models import CharField, Count, DateTimeField, F, Func, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from llm.models import CallStatus, LLMCall, LLMUsageHourly

GroupBy = Literal["provider", "model", "agent", "workflow", "config", "day"]
Bucket = Literal["hour", "day"]
GROUP_BY_CHOICES: tuple[str, ...] = ("provider", "model", "agent", "workflow", "config", "day")
MAX_SERIES_POINTS = 5000
MAX_PAGE_SIZE = 500
HOUR = timedelta(hours=1)

_DIMENSION_FIELDS = {
    "provider": "provider",
    "model": "model",
    "agent": "agent_id",
    "workflow": "workflow_id",
    "config": "config_name",
}


MAX_FILTER_LENGTH = 200


class InvalidUsageQuery(ValueError):
    """A usage query argument is out of range; the message says what is allowed."""


_COUNTS = (
    "calls",
    "error_calls",
    "cached_calls",
    "unknown_cost_calls",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)
_SUMMED = (*_COUNTS, "cost_usd", "saved_usd")


@dataclass(frozen=True, slots=True)
class UsageTotals:
    calls: int = 0
    error_calls: int = 0
    cached_calls: int = 0
    unknown_cost_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    saved_usd: Decimal = Decimal(0)
    first_call_at: datetime | None = None
    last_call_at: datetime | None = None

    @property
    def cost_complete(self) -> bool:
        """False when some calls had no known price, so `cost_usd` is a lower bound."""
        return self.unknown_cost_calls == 0

    def __add__(self, other: UsageTotals) -> UsageTotals:
        if not isinstance(other, UsageTotals):
            return NotImplemented
        sums = {name: getattr(self, name) + getattr(other, name) for name in _SUMMED}
        return UsageTotals(
            **sums,
            first_call_at=_earliest(self.first_call_at, other.first_call_at),
            last_call_at=_latest(self.last_call_at, other.last_call_at),
        )


@dataclass(frozen=True, slots=True)
class UsageRow(UsageTotals):
    """Totals of one group: `key` is the provider, model, agent, workflow, config or day (YYYY-MM-DD)."""

    key: str = ""


@dataclass(frozen=True, slots=True)
class UsagePoint(UsageTotals):
    """Totals of one time bucket (its start, UTC); buckets with no calls are included, with zeros."""

    bucket: datetime = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class UsageFilters:
    """Which calls to count; None means "any". `since` is inclusive, `until` exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    agent_id: str | None = None
    workflow_id: str | None = None
    config: str | None = None
    provider: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidUsageQuery(f"{name} must be a timezone-aware datetime.")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidUsageQuery("since must not be after until.")
        _check_text_filters(self, ("agent_id", "workflow_id", "config", "provider", "model"))

    def dimensions(self) -> Q:
        where = Q()
        for name, column in (
            ("agent_id", "agent_id"),
            ("workflow_id", "workflow_id"),
            ("config", "config_name"),
            ("provider", "provider"),
            ("model", "model"),
        ):
            if (value := getattr(self, name)) is not None:
                where &= Q(**{column: value})
        return where


def _check_text_filters(filters: object, names: tuple[str, ...]) -> None:
    """A filter value no column can hold (too long, or with a NUL, which PostgreSQL refuses) is an error."""
    for name in names:
        value = getattr(filters, name)
        if value is None:
            continue
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidUsageQuery(f"{name} must be a string without NUL characters.")
        if len(value) > MAX_FILTER_LENGTH:
            raise InvalidUsageQuery(f"{name} must be at most {MAX_FILTER_LENGTH} characters, not {len(value):,}.")


# Totals, groups and series


def usage_totals(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    agent_id: str | None = None,
    workflow_id: str | None = None,
    config: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> UsageTotals:
    """Calls, tokens and cost of every call matching the filters."""
    filters = UsageFilters(since, until, agent_id, workflow_id, config, provider, model)
    found = _collect(filters, None)
    return UsageTotals(*found[0][1]) if found else UsageTotals()


def usage_grouped(
    *,
    group_by: GroupBy,
    since: datetime | None = None,
    until: datetime | None = None,
    agent_id: str | None = None,
    workflow_id: str | None = None,
    config: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    limit: int | None = None,
) -> list[UsageRow]:
    """One row per group: by day in date order, otherwise the most expensive first (then most tokens).

    Groups with a blank key are the calls not attributed to an agent or workflow.
    """
    if group_by not in GROUP_BY_CHOICES:
        raise InvalidUsageQuery(f"group_by must be one of {', '.join(GROUP_BY_CHOICES)}, not {group_by!r}.")
    if limit is not None and limit < 1:
        raise InvalidUsageQuery(f"limit must be at least 1, not {limit}.")
    filters = UsageFilters(since, until, agent_id, workflow_id, config, provider, model)
    return [
        UsageRow(*values, key=key.date().isoformat() if group_by == "day" else key)
        for key, values in _collect(filters, group_by, limit=limit)
    ]


def usage_by_provider(**filters) -> list[UsageRow]:
    return usage_grouped(group_by="provider", **filters)


def usage_by_model(**filters) -> list[UsageRow]:
    return usage_grouped(group_by="model", **filters)


def usage_by_agent(**filters) -> list[UsageRow]:
    return usage_grouped(group_by="agent", **filters)


def usage_by_workflow(**filters) -> list[UsageRow]:
    return usage_grouped(group_by="workflow", **filters)


def usage_by_config(**filters) -> list[UsageRow]:
    return usage_grouped(group_by="config", **filters)


def usage_by_day(**filters) -> list[UsageRow]:
    return usage_grouped(group_by="day", **filters)


def usage_series(
    *,
    since: datetime,
    until: datetime | None = None,
    bucket: Bucket = "day",
    agent_id: str | None = None,
    workflow_id: str | None = None,
    config: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> list[UsagePoint]:
    """A point per hour or day (UTC) from `since` to `until` (default now), for charts; gaps are zeros."""
    if bucket not in ("hour", "day"):
        raise InvalidUsageQuery(f"bucket must be hour or day, not {bucket!r}.")
    until = until or timezone.now()
    filters = UsageFilters(since, until, agent_id, workflow_id, config, provider, model)
    step = HOUR if bucket == "hour" else timedelta(days=1)
    first = _floor(since, bucket)
    if (until - first) / step > MAX_SERIES_POINTS:
        raise InvalidUsageQuery(f"That range has more than {MAX_SERIES_POINTS} {bucket}s; use a larger bucket.")
    found = {key: values for key, values in _collect(filters, f"bucket:{bucket}")}
    points = []
    moment = first
    while moment < until:
        values = found.get(moment)
        points.append(UsagePoint(*values, bucket=moment) if values else UsagePoint(bucket=moment))
        moment += step
    return points


def usage_for_workflows(
    *, workflow_ids: Iterable[str], since: datetime | None = None, until: datetime | None = None
) -> dict[str, UsageTotals]:
    """Totals per workflow for a page of workflows (ids without calls are absent)."""
    return _for_ids("workflow", list(workflow_ids), since, until)


def usage_for_agents(
    *,
    agent_ids: Iterable[str],
    since: datetime | None = None,
    until: datetime | None = None,
    workflow_id: str | None = None,
) -> dict[str, UsageTotals]:
    """Totals per agent for a page of agents (ids without calls are absent), optionally within one workflow."""
    return _for_ids("agent", list(agent_ids), since, until, workflow_id=workflow_id)


def _for_ids(
    group_by: GroupBy,
    ids: list[str],
    since: datetime | None,
    until: datetime | None,
    workflow_id: str | None = None,
) -> dict[str, UsageTotals]:
    if not ids:
        return {}
    filters = UsageFilters(since=since, until=until, workflow_id=workflow_id)
    column = _DIMENSION_FIELDS[group_by]
    found = _collect(filters, group_by, extra=Q(**{f"{column}__in": ids}))
    return {key: UsageTotals(*values) for key, values in found}


# The rollup, and how a range is split between it and the raw calls


def rebuild_usage_rollup(*, since: datetime | None = None, until: datetime | None = None) -> int:
    """Recompute the hourly rollup from the raw calls in [since, until) (default: everything); returns rows.

    Only needed after loading calls with triggers disabled (the benchmark does), or to repair drift.
    """
    since = since or datetime(1970, 1, 1, tzinfo=UTC)
    until = until or datetime(9999, 1, 1, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT llm_usage_hourly_rebuild(%s, %s)", [since, until])
        return cursor.fetchone()[0]


def _collect(
    filters: UsageFilters, group: str | None, *, extra: Q | None = None, limit: int | None = None
) -> list[tuple[object, tuple]]:
    """(group key, totals fields in UsageTotals order) per group, in display order, from one SQL statement.

    The statement adds up the rollup's whole hours and the raw calls of the partial hours at the edges
    (a UNION ALL of per-part sums), then groups, orders and limits, so only the answer reaches Python.
    """
    rollup_range, raw_ranges = _split(filters.since, filters.until)
    where = filters.dimensions() & (extra or Q())
    parts: list[QuerySet] = []
    if rollup_range is not None:
        start, end = rollup_range
        rows = LLMUsageHourly.objects.filter(where)
        if start is not None:
            rows = rows.filter(hour__gte=start)
        if end is not None:
            rows = rows.filter(hour__lt=end)
        parts.append(_part(rows, group, "hour", _ROLLUP_AGGREGATES))
    for start, end in raw_ranges:
        rows = LLMCall.objects.filter(where, created_at__gte=start, created_at__lt=end)
        parts.append(_part(rows, group, "created_at", _RAW_AGGREGATES))
    sqls, params = [], []
    for part in parts:
        sql, part_params = part.query.sql_with_params()
        sqls.append(f"({sql})")
        params.extend(part_params)
    if group is None or group == "day" or group.startswith("bucket:"):
        order = "k"
    else:
        order = "cost_usd DESC, total_tokens DESC, calls DESC, k"
    statement = (
        f"SELECT k, {_OUTER_SUMS} FROM ({' UNION ALL '.join(sqls)}) AS parts "
        f"GROUP BY k HAVING sum(calls) > 0 ORDER BY {order}"
    )
    if limit is not None:
        statement += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [(found[0], found[1:]) for found in cursor.fetchall()]


def _part(rows: QuerySet, group: str | None, time_field: str, aggregates: dict) -> QuerySet:
    if group is None:
        key = Value("", output_field=CharField())
    elif group in _DIMENSION_FIELDS:
        key = F(_DIMENSION_FIELDS[group])
    else:
        key = _TruncUTC(time_field, unit="hour" if group == "bucket:hour" else "day")
    return rows.values(k=key).annotate(**aggregates).order_by()


class _TruncUTC(Func):
    """date_trunc in UTC, staying timestamptz (Django's Trunc goes through a naive timestamp)."""

    template = "date_trunc('%(unit)s', %(expressions)s, 'UTC')"
    output_field = DateTimeField()

    def __init__(self, expression: str, *, unit: Literal["hour", "day"]) -> None:
        super().__init__(expression, unit=unit)


def _split(
    since: datetime | None, until: datetime | None
) -> tuple[tuple[datetime | None, datetime | None] | None, list[tuple[datetime, datetime]]]:
    """The whole hours of [since, until) for the rollup, and the partial hours at either end for raw rows.

    An open end stays open: the trigger keeps the current hour's rollup row up to date.
    """
    start = None if since is None else _ceil_hour(since)
    end = None if until is None else _floor(until, "hour")
    if start is not None and end is not None and start >= end:
        return None, [(since, until)]  # within one hour, or across a single hour boundary
    raw = []
    if since is not None and since < start:
        raw.append((since, start))
    if until is not None and end < until:
        raw.append((end, until))
    return (start, end), raw


_NOT_CACHED = ~Q(status=CallStatus.CACHED)
_ZERO = Decimal(0)

_RAW_AGGREGATES = {
    "calls": Count("id"),
    "error_calls": Count("id", filter=Q(status=CallStatus.ERROR)),
    "cached_calls": Count("id", filter=Q(status=CallStatus.CACHED)),
    "unknown_cost_calls": Count("id", filter=_NOT_CACHED & Q(cost_usd__isnull=True)),
    "prompt_tokens": Coalesce(Sum("prompt_tokens", filter=_NOT_CACHED), 0),
    "completion_tokens": Coalesce(Sum("completion_tokens", filter=_NOT_CACHED), 0),
    "total_tokens": Coalesce(Sum("total_tokens", filter=_NOT_CACHED), 0),
    "cache_read_tokens": Coalesce(Sum("cache_read_tokens", filter=_NOT_CACHED), 0),
    "cache_write_tokens": Coalesce(Sum("cache_write_tokens", filter=_NOT_CACHED), 0),
    "cost_usd": Coalesce(Sum("cost_usd", filter=_NOT_CACHED), _ZERO),
    "saved_usd": Coalesce(Sum("saved_usd", filter=Q(status=CallStatus.CACHED)), _ZERO),
    "first_call_at": Min("created_at"),
    "last_call_at": Max("created_at"),
}

_ROLLUP_AGGREGATES = {
    **{name: Coalesce(Sum(name), _ZERO if name.endswith("_usd") else 0) for name in _SUMMED},
    "first_call_at": Min("first_call_at"),
    "last_call_at": Max("last_call_at"),
}


assert list(_RAW_AGGREGATES) == list(_ROLLUP_AGGREGATES) == [f.name for f in fields(UsageTotals)]
_OUTER_SUMS = ", ".join(
    [f"sum({name})::bigint AS {name}" for name in _COUNTS]
    + ["sum(cost_usd) AS cost_usd", "sum(saved_usd) AS saved_usd"]
    + ["min(first_call_at) AS first_call_at", "max(last_call_at) AS last_call_at"]
)


def _floor(moment: datetime, unit: Bucket) -> datetime:
    moment = moment.astimezone(UTC)
    if unit == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor(moment, "hour")
    return floor if floor == moment else floor + HOUR


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


# The call list


@dataclass(frozen=True, slots=True)
class CallFilters:
    """Every filter the call list offers; None means "any". `since` inclusive, `until` exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    agent_id: str | None = None
    workflow_id: str | None = None
    task_id: str | None = None
    config: str | None = None
    provider: str | None = None
    model: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        UsageFilters(since=self.since, until=self.until)  # the same checks
        _check_text_filters(self, ("agent_id", "workflow_id", "task_id", "config", "provider", "model"))
        if self.status is not None and self.status not in CallStatus.values:
            raise InvalidUsageQuery(f"status must be one of {', '.join(CallStatus.values)}, not {self.status!r}.")

    def as_q(self) -> Q:
        where = Q()
        for name in ("agent_id", "workflow_id", "task_id", "provider", "model", "status"):
            if (value := getattr(self, name)) is not None:
                where &= Q(**{name: value})
        if self.config is not None:
            where &= Q(config_name=self.config)
        if self.since is not None:
            where &= Q(created_at__gte=self.since)
        if self.until is not None:
            where &= Q(created_at__lt=self.until)
        return where


@dataclass(frozen=True, slots=True)
class CallPage:
    rows: list[LLMCall]
    next_cursor: str | None


def call_page(*, filters: CallFilters, limit: int = 50, cursor: str | None = None, with_text: bool = False) -> CallPage:
    """One page of calls, newest first, and the cursor of the next page (None on the last).

    Without `with_text` the prompt, system prompt and response are not loaded (lists show tokens and cost).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidUsageQuery(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}.")
    rows = LLMCall.objects.filter(filters.as_q())
    if not with_text:
        rows = rows.defer("system", "prompt", "response", "request_params", "metadata")
    if cursor is not None:
        created_at, call_id = _decode_cursor(cursor)
        rows = rows.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=call_id))
    found = list(rows.order_by("-created_at", "-id")[: limit + 1])
    next_cursor = _encode_cursor(found[limit - 1]) if len(found) > limit else None
    return CallPage(rows=found[:limit], next_cursor=next_cursor)


def _encode_cursor(call: LLMCall) -> str:
    raw = f"{call.created_at.isoformat()}|{call.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, call_id = raw.split("|", 1)
        created_at, pk = datetime.fromisoformat(created), int(call_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidUsageQuery("cursor is not valid; pass next_cursor from the previous page unchanged.") from None
    if created_at.tzinfo is None:
        raise InvalidUsageQuery("cursor is not valid; pass next_cursor from the previous page unchanged.")
    return created_at, pk
