"""Read queries over stored artifacts, shared by the dashboard and the JSON API.

Lists are keyset-paged by (created_at, artifact_id) with an opaque cursor, never by OFFSET.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, Q, Sum

from artifacts.models import AgentRollup, ArtifactRecord, TaskRollup, WorkflowAgentRollup, WorkflowRollup
from artifacts.store.artifact import MAX_ID_LENGTH, InvalidArtifactError, validate_artifact_type, validate_storable_text

MAX_PAGE_SIZE = 500
MAX_SEARCH_LENGTH = 500


@dataclass(frozen=True, slots=True)
class ArtifactFilters:
    """Every filter the artifact list offers; None means "any"."""

    workflow_id: str | None = None
    task_id: str | None = None
    agent_id: str | None = None
    artifact_type: str | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.artifact_type is not None:
            validate_artifact_type(self.artifact_type)
        for name in ("workflow_id", "task_id", "agent_id", "q"):
            if (value := getattr(self, name)) is not None:
                validate_storable_text(name, value)
                longest = MAX_SEARCH_LENGTH if name == "q" else MAX_ID_LENGTH
                if len(value) > longest:
                    raise InvalidArtifactError(f"{name} must be at most {longest} characters, not {len(value):,}.")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidArtifactError(f"{name} must be a timezone-aware datetime.")

    def as_q(self) -> Q:
        where = Q()
        for name in ("workflow_id", "task_id", "agent_id", "artifact_type"):
            if (value := getattr(self, name)) is not None:
                where &= Q(**{name: value})
        if self.since is not None:
            where &= Q(created_at__gte=self.since)
        if self.until is not None:
            where &= Q(created_at__lt=self.until)
        if self.q and self.q.strip():
            where &= Q(search=SearchQuery(self.q.strip(), config="simple", search_type="websearch"))
        return where


@dataclass(frozen=True, slots=True)
class ArtifactPage:
    rows: list[ArtifactRecord]
    next_cursor: str | None


def encode_cursor(record: ArtifactRecord) -> str:
    raw = f"{record.created_at.isoformat()}|{record.artifact_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, artifact_id) a cursor stands for; a malformed cursor is an InvalidArtifactError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, artifact_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(created)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArtifactError("cursor is not valid; pass next_cursor from the previous page unchanged.") from None
    if created_at.tzinfo is None or not artifact_id:
        raise InvalidArtifactError("cursor is not valid; pass next_cursor from the previous page unchanged.")
    return created_at, artifact_id


def artifact_page(
    *,
    filters: ArtifactFilters,
    limit: int = 50,
    cursor: str | None = None,
    newest_first: bool = True,
    with_content: bool = False,
) -> ArtifactPage:
    """One page of artifacts matching `filters`, and the cursor of the next page (None on the last)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidArtifactError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}.")
    rows = ArtifactRecord.objects.filter(filters.as_q())
    if not with_content:
        rows = rows.defer("content")
    if cursor is not None:
        created_at, artifact_id = decode_cursor(cursor)
        if newest_first:
            after = Q(created_at__lt=created_at) | Q(created_at=created_at, artifact_id__lt=artifact_id)
        else:
            after = Q(created_at__gt=created_at) | Q(created_at=created_at, artifact_id__gt=artifact_id)
        rows = rows.filter(after)
    order = ("-created_at", "-artifact_id") if newest_first else ("created_at", "artifact_id")
    found = list(rows.order_by(*order)[: limit + 1])
    next_cursor = encode_cursor(found[limit - 1]) if len(found) > limit else None
    return ArtifactPage(rows=found[:limit], next_cursor=next_cursor)


# Summaries of workflows, agents and tasks, read from the rollup tables (artifacts/rollups.py) so
# they cost the same with a thousand artifacts or a million. Shared by the dashboard and the JSON API.


@dataclass(frozen=True, slots=True)
class WorkflowSummary:
    workflow_id: str
    artifact_count: int
    agent_count: int
    task_count: int
    first_at: datetime
    last_at: datetime
    agent_ids: tuple[str, ...]  # busiest first, at most AGENTS_PER_WORKFLOW

    @property
    def more_agents(self) -> int:
        return self.agent_count - len(self.agent_ids)


@dataclass(frozen=True, slots=True)
class AgentSummary:
    agent_id: str
    artifact_count: int
    workflow_count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class TaskSummary:
    workflow_id: str
    task_id: str
    artifact_count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class SummaryPage[T]:
    rows: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ArtifactTotals:
    artifact_count: int
    workflow_count: int
    agent_count: int


@dataclass(frozen=True, slots=True)
class TaskTimeline:
    task: TaskSummary
    artifacts: list[ArtifactRecord]  # oldest first, at most `per_task`; content deferred

    @property
    def more(self) -> int:
        return self.task.artifact_count - len(self.artifacts)


@dataclass(frozen=True, slots=True)
class WorkflowTimeline:
    tasks: list[TaskTimeline]
    next_cursor: str | None


AGENTS_PER_WORKFLOW = 8


def _key_cursor(at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{key}".encode()).decode().rstrip("=")


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidArtifactError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}.")


def _agents_of(workflow_ids: list[str]) -> dict[str, tuple[str, ...]]:
    agents: dict[str, list[str]] = {}
    pairs = (
        WorkflowAgentRollup.objects.filter(workflow_id__in=workflow_ids)
        .order_by("workflow_id", "-artifact_count", "agent_id")
        .values_list("workflow_id", "agent_id")
    )
    for workflow_id, agent_id in pairs:
        found = agents.setdefault(workflow_id, [])
        if len(found) < AGENTS_PER_WORKFLOW:
            found.append(agent_id)
    return {workflow_id: tuple(ids) for workflow_id, ids in agents.items()}


def _workflow_rows(rollups: list[WorkflowRollup]) -> list[WorkflowSummary]:
    agents = _agents_of([r.workflow_id for r in rollups]) if rollups else {}
    return [
        WorkflowSummary(
            workflow_id=r.workflow_id,
            artifact_count=r.artifact_count,
            agent_count=r.agent_count,
            task_count=r.task_count,
            first_at=r.first_at,
            last_at=r.last_at,
            agent_ids=agents.get(r.workflow_id, ()),
        )
        for r in rollups
    ]


def workflow_summaries(
    *,
    agent_id: str | None = None,
    id_contains: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> SummaryPage[WorkflowSummary]:
    """Workflows, most recently active first (with `agent_id`: where that agent was last active)."""
    _check_limit(limit)
    ArtifactFilters(agent_id=agent_id, q=id_contains)  # the same checks as the artifact list's
    if agent_id is not None:
        pairs = WorkflowAgentRollup.objects.filter(agent_id=agent_id)
        if id_contains:
            pairs = pairs.filter(workflow_id__icontains=id_contains)
        if cursor is not None:
            at, key = decode_cursor(cursor)
            pairs = pairs.filter(Q(last_at__lt=at) | Q(last_at=at, workflow_id__lt=key), last_at__lte=at)
        found = list(pairs.order_by("-last_at", "-workflow_id").values_list("workflow_id", "last_at")[: limit + 1])
        page = found[:limit]
        by_id = WorkflowRollup.objects.in_bulk([workflow_id for workflow_id, _ in page])
        rows = _workflow_rows([by_id[workflow_id] for workflow_id, _ in page if workflow_id in by_id])
        next_cursor = _key_cursor(page[-1][1], page[-1][0]) if len(found) > limit else None
        return SummaryPage(rows=rows, next_cursor=next_cursor)
    rollups = WorkflowRollup.objects.all()
    if id_contains:
        rollups = rollups.filter(workflow_id__icontains=id_contains)
    if cursor is not None:
        at, key = decode_cursor(cursor)
        # The redundant last_at bound lets PostgreSQL start the index scan at the cursor.
        rollups = rollups.filter(Q(last_at__lt=at) | Q(last_at=at, workflow_id__lt=key), last_at__lte=at)
    found = list(rollups.order_by("-last_at", "-workflow_id")[: limit + 1])
    page = found[:limit]
    next_cursor = _key_cursor(page[-1].last_at, page[-1].workflow_id) if len(found) > limit else None
    return SummaryPage(rows=_workflow_rows(page), next_cursor=next_cursor)


def workflow_summary(*, workflow_id: str) -> WorkflowSummary | None:
    rollup = WorkflowRollup.objects.filter(pk=workflow_id).first()
    return _workflow_rows([rollup])[0] if rollup else None


def _agent_row(r: AgentRollup) -> AgentSummary:
    return AgentSummary(
        agent_id=r.agent_id,
        artifact_count=r.artifact_count,
        workflow_count=r.workflow_count,
        first_at=r.first_at,
        last_at=r.last_at,
    )


def agent_summaries(*, limit: int = 100, cursor: str | None = None) -> SummaryPage[AgentSummary]:
    """Agents, most recently active first."""
    _check_limit(limit)
    rollups = AgentRollup.objects.all()
    if cursor is not None:
        at, key = decode_cursor(cursor)
        rollups = rollups.filter(Q(last_at__lt=at) | Q(last_at=at, agent_id__lt=key), last_at__lte=at)
    found = list(rollups.order_by("-last_at", "-agent_id")[: limit + 1])
    page = found[:limit]
    next_cursor = _key_cursor(page[-1].last_at, page[-1].agent_id) if len(found) > limit else None
    return SummaryPage(rows=[_agent_row(r) for r in page], next_cursor=next_cursor)


def agent_summary(*, agent_id: str) -> AgentSummary | None:
    rollup = AgentRollup.objects.filter(pk=agent_id).first()
    return _agent_row(rollup) if rollup else None


def agent_ids() -> list[str]:
    """Every agent id, alphabetically (for filter menus)."""
    return list(AgentRollup.objects.order_by("agent_id").values_list("agent_id", flat=True))


def _task_row(r: TaskRollup) -> TaskSummary:
    return TaskSummary(
        workflow_id=r.workflow_id,
        task_id=r.task_id,
        artifact_count=r.artifact_count,
        first_at=r.first_at,
        last_at=r.last_at,
    )


def task_summaries(*, workflow_id: str, limit: int = 50, cursor: str | None = None) -> SummaryPage[TaskSummary]:
    """The tasks of a workflow in the order they started."""
    _check_limit(limit)
    rollups = TaskRollup.objects.filter(workflow_id=workflow_id)
    if cursor is not None:
        at, key = decode_cursor(cursor)
        rollups = rollups.filter(Q(first_at__gt=at) | Q(first_at=at, task_id__gt=key), first_at__gte=at)
    found = list(rollups.order_by("first_at", "task_id")[: limit + 1])
    page = found[:limit]
    next_cursor = _key_cursor(page[-1].first_at, page[-1].task_id) if len(found) > limit else None
    return SummaryPage(rows=[_task_row(r) for r in page], next_cursor=next_cursor)


def task_placements(*, task_id: str) -> list[TaskSummary]:
    """Every workflow a task id appears in (normally one), oldest first."""
    return [_task_row(r) for r in TaskRollup.objects.filter(task_id=task_id).order_by("first_at", "workflow_id")]


def workflow_timeline(
    *, workflow_id: str, limit: int = 20, cursor: str | None = None, per_task: int = 20
) -> WorkflowTimeline:
    """A workflow's tasks in the order they started, each with its first `per_task` artifacts."""
    tasks = task_summaries(workflow_id=workflow_id, limit=limit, cursor=cursor)
    by_task: dict[str, list[ArtifactRecord]] = {t.task_id: [] for t in tasks.rows}
    if tasks.rows:
        # One LATERAL query: at most per_task rows per task, each read from the task index.
        rows = ArtifactRecord.objects.raw(
            """
            SELECT a.artifact_id, a.workflow_id, a.task_id, a.agent_id, a.artifact_type, a.metadata, a.created_at
            FROM unnest(%s::text[]) AS t(task_id)
            CROSS JOIN LATERAL (
                SELECT * FROM artifacts_artifact x
                WHERE x.task_id = t.task_id AND x.workflow_id = %s
                  AND (x.expires_at IS NULL OR x.expires_at > now())
                ORDER BY x.created_at, x.artifact_id LIMIT %s
            ) a
            ORDER BY a.created_at, a.artifact_id
            """,
            [list(by_task), workflow_id, per_task],
        )
        for record in rows:
            by_task[record.task_id].append(record)
    return WorkflowTimeline(
        tasks=[TaskTimeline(task=t, artifacts=by_task[t.task_id]) for t in tasks.rows],
        next_cursor=tasks.next_cursor,
    )


def artifact_totals(*, since: datetime | None = None) -> ArtifactTotals:
    """How many artifacts were written since `since` (ever, when None), and by how many workflows and agents."""
    if since is None:
        totals = WorkflowRollup.objects.aggregate(artifacts=Sum("artifact_count"), workflows=Count("pk"))
        return ArtifactTotals(
            artifact_count=totals["artifacts"] or 0,
            workflow_count=totals["workflows"],
            agent_count=AgentRollup.objects.count(),
        )
    return ArtifactTotals(
        artifact_count=ArtifactRecord.objects.filter(created_at__gte=since).count(),
        workflow_count=WorkflowRollup.objects.filter(last_at__gte=since).count(),
        agent_count=AgentRollup.objects.filter(last_at__gte=since).count(),
    )


def version_rows(*, record: ArtifactRecord, limit: int = 50) -> list[ArtifactRecord]:
    """The versions in `record`'s lineage (metadata `name`, agent, type), oldest first, without content;
    [] when it has no lineage name. The same lineage `artifacts.versions` follows through the store."""
    if record.lineage_name is None:
        return []
    rows = ArtifactRecord.objects.filter(
        lineage_name=record.lineage_name, agent_id=record.agent_id, artifact_type=record.artifact_type
    )
    return list(rows.defer("content", "content_blob").order_by("created_at", "artifact_id")[:limit])
