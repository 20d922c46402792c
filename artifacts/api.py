"""Artifacts over JSON: create (one or a batch), read, stream content, list with filters, delete.

Thin: every read and write goes through `artifacts.store` and `artifacts.queries`, as the pages do.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import AuthorizationError, ValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr, ValidationInfo, field_validator, model_validator

from artifacts.downloads import attachment_disposition
from artifacts.queries import (
    AGENTS_PER_WORKFLOW,
    MAX_PAGE_SIZE,
    MAX_SEARCH_LENGTH,
    AgentSummary,
    ArtifactFilters,
    WorkflowSummary,
    agent_summaries,
    agent_summary,
    artifact_page,
    workflow_summaries,
    workflow_summary,
)
from artifacts.store import Artifact, get_artifact_store
from artifacts.store.artifact import MAX_ID_LENGTH, artifact_types, validate_artifact_type, validate_storable_text
from artifacts.store.content import ContentInfo
from conductor_site.api import error_responses
from llm.usage import UsageTotals, usage_for_agents, usage_for_workflows

router = Router(tags=["artifacts"])

MAX_BULK = 1000

_FIELDS = (
    "artifact_id",
    "workflow_id",
    "task_id",
    "agent_id",
    "artifact_type",
    "content",
    "metadata",
    "created_at",
    "expires_at",
)


def _types_enum(schema: dict[str, Any]) -> None:
    # The types are a setting, so the schema lists them when it is generated, not at import.
    if schema.get("type") == "string":
        schema["enum"] = list(artifact_types())
    else:
        for option in schema.get("anyOf", []):
            if option.get("type") == "string":
                option["enum"] = list(artifact_types())


IdField = Field(min_length=1, max_length=MAX_ID_LENGTH)


class ArtifactIn(BaseModel):
    """A new artifact. Only these fields are accepted; anything else is a 422.

    A plain pydantic model, not a ninja Schema: ninja's attribute-reading wrapper costs a third of
    a 1,000-item bulk request, and input never comes from ORM objects.
    """

    model_config = ConfigDict(extra="forbid")
    _artifact: Artifact = PrivateAttr()

    artifact_id: str | None = Field(
        None, min_length=1, max_length=MAX_ID_LENGTH, description="Defaults to art-<uuid4>. Write-once."
    )
    workflow_id: str = IdField
    task_id: str = IdField
    agent_id: str = IdField
    artifact_type: str = Field(description="One of the configured artifact types.", json_schema_extra=_types_enum)
    content: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: AwareDatetime | None = Field(None, description="Defaults to now; must carry a timezone.")
    expires_at: AwareDatetime | None = Field(
        None, description="When the artifact may be purged; defaults to the type's retention, or never."
    )

    @field_validator("artifact_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        validate_artifact_type(value)
        return value

    @field_validator("artifact_id", "workflow_id", "task_id", "agent_id", "content")
    @classmethod
    def _storable(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            validate_storable_text(info.field_name or "text", value)
        return value

    @model_validator(mode="after")
    def _valid_artifact(self) -> ArtifactIn:
        # The value object has the last word (JSON-safe metadata and the like), per item, in one pass.
        fields = {name: value for name in _FIELDS if (value := getattr(self, name)) is not None}
        self._artifact = Artifact(**fields)
        return self

    def to_artifact(self) -> Artifact:
        return self._artifact


class StorageOut(Schema):
    original_size: int = Field(description="Bytes of the content as UTF-8.")
    stored_size: int = Field(description="Bytes actually stored (after compression).")
    encoding: str = Field(description="How the content is stored: identity or zstd.")
    location: str = Field(description="Where the content is: the database row, object storage, …")
    sha256: str


class ArtifactSummaryOut(Schema):
    artifact_id: str
    workflow_id: str
    task_id: str
    agent_id: str
    artifact_type: str
    metadata: dict[str, Any]
    created_at: datetime
    expires_at: datetime | None
    content_url: str
    storage: StorageOut | None = Field(None, description="How the content is stored (null right after a create).")

    @staticmethod
    def resolve_content_url(obj: Any) -> str:
        # The content route takes ids holding "/" (a path converter), so only other characters are quoted.
        return f"{reverse('api:artifact_list')}/{quote(_field(obj, 'artifact_id'), safe='/')}/content"

    @staticmethod
    def resolve_storage(obj: Any) -> ContentInfo | None:
        # A list row is an ArtifactRecord (its sizes are columns), a detail a dict holding them, and a
        # schema already built (ninja validates the response again) keeps its own.
        if isinstance(obj, dict):
            return obj.get("storage")
        if isinstance(obj, Schema):
            return obj.storage
        return getattr(obj, "content_info", None)


def _field(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


class ArtifactOut(ArtifactSummaryOut):
    content: str


class ArtifactPageOut(Schema):
    items: list[ArtifactSummaryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ArtifactListQuery(Schema):
    workflow_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    task_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    agent_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    artifact_type: str | None = Field(
        None, description="One of the configured artifact types.", json_schema_extra=_types_enum
    )
    q: str | None = Field(
        None, max_length=MAX_SEARCH_LENGTH, description="Full-text search in content (web-search syntax)."
    )
    since: AwareDatetime | None = Field(None, description="Created at or after (inclusive).")
    until: AwareDatetime | None = Field(None, description="Created before (exclusive).")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(None, description="next_cursor of the previous page, unchanged.")
    order: Literal["newest", "oldest"] = "newest"


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    artifacts: list[ArtifactIn] = Field(min_length=1, max_length=MAX_BULK)


class BulkOut(Schema):
    created: int
    artifact_ids: list[str]


class TypesOut(Schema):
    artifact_types: list[str]


@router.get("", response={200: ArtifactPageOut, **error_responses()}, url_name="artifact_list")
def list_artifacts(request: HttpRequest, filters: Query[ArtifactListQuery]) -> ArtifactPageOut:
    """Artifacts matching every given filter, newest first by default, a keyset page at a time."""
    page = artifact_page(
        filters=ArtifactFilters(
            workflow_id=filters.workflow_id,
            task_id=filters.task_id,
            agent_id=filters.agent_id,
            artifact_type=filters.artifact_type,
            q=filters.q,
            since=filters.since,
            until=filters.until,
        ),
        limit=filters.limit,
        cursor=filters.cursor,
        newest_first=filters.order == "newest",
    )
    return ArtifactPageOut(
        items=[ArtifactSummaryOut.from_orm(row) for row in page.rows],
        next_cursor=page.next_cursor,
    )


@router.post("", response={201: ArtifactOut, **error_responses(403, 409)}, url_name="artifact_create")
async def create_artifact(request: HttpRequest, payload: ArtifactIn) -> Status[Artifact]:
    """Store one artifact. 409 when its id exists (artifacts are write-once)."""
    artifact = _to_artifacts([payload], loc=("body", "payload"))[0]
    await get_artifact_store().save(artifact)
    return Status(201, artifact)


@router.post("/bulk", response={201: BulkOut, **error_responses(403, 409)}, url_name="artifact_bulk_create")
async def bulk_create_artifacts(request: HttpRequest, payload: BulkIn) -> Status[BulkOut]:
    """Store up to 1,000 artifacts in one transaction: all of them, or none.

    409 lists every id that already exists; 422 lists each invalid item's field errors.
    """
    artifacts = _to_artifacts(payload.artifacts, loc=("body", "payload", "artifacts"), numbered=True)
    await get_artifact_store().save_many(artifacts)
    return Status(201, BulkOut(created=len(artifacts), artifact_ids=[a.artifact_id for a in artifacts]))


@router.get("/types", response={200: TypesOut, **error_responses()}, url_name="artifact_types")
def list_artifact_types(request: HttpRequest) -> TypesOut:
    """The artifact types this deployment accepts."""
    return TypesOut(artifact_types=list(artifact_types()))


# Ids may hold '/', hence {path:…}; the content route comes first so that `<id>/content` reaches it.
@router.get(
    "/{path:artifact_id}/content",
    response={200: None, **error_responses(404)},
    url_name="artifact_content",
    openapi_extra={
        "responses": {
            200: {
                "description": "The content as UTF-8 text, streamed.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        }
    },
)
async def get_artifact_content(request: HttpRequest, artifact_id: str) -> HttpResponse:
    """The raw content, streamed as text/plain from wherever the store keeps it, as a download."""
    stream = await get_artifact_store().open_content(artifact_id) if _valid_id(artifact_id) else None
    if stream is None:
        raise Http404(f"No artifact with id {artifact_id!r}.")
    response = StreamingHttpResponse(stream.chunks, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = attachment_disposition(artifact_id)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/{path:artifact_id}", response={200: ArtifactOut, **error_responses(404)}, url_name="artifact_detail")
async def get_artifact(request: HttpRequest, artifact_id: str) -> dict[str, Any]:
    """The artifact with its content, and how that content is stored."""
    artifact = await _get_or_404(artifact_id)
    info = await get_artifact_store().content_info(artifact_id)
    return {**{f.name: getattr(artifact, f.name) for f in fields(artifact)}, "storage": info}


@router.delete("/{path:artifact_id}", response={204: None, **error_responses(403, 404)}, url_name="artifact_delete")
async def delete_artifact(request: HttpRequest, artifact_id: str) -> Status[None]:
    """Delete an artifact. Staff only."""
    user = request.auth  # type: ignore[attr-defined]
    if not user.is_staff:
        raise AuthorizationError(403, "Deleting artifacts needs a staff account.")
    if not _valid_id(artifact_id) or not await get_artifact_store().delete(artifact_id):
        raise Http404(f"No artifact with id {artifact_id!r}.")
    return Status(204, None)


def _to_artifacts(items: list[ArtifactIn], *, loc: tuple[str, ...], numbered: bool = False) -> list[Artifact]:
    """Value objects for validated payloads; errors the schema cannot see become 422s that say where."""
    artifacts: list[Artifact] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = [*loc, index] if numbered else list(loc)
        artifact = item.to_artifact()
        if artifact.artifact_id in seen:
            message = f"artifact_id {artifact.artifact_id!r} appears more than once in this request."
            errors.append({"loc": [*where, "artifact_id"], "msg": message, "type": "duplicate_id"})
        seen.add(artifact.artifact_id)
        artifacts.append(artifact)
    if errors:
        raise ValidationError(errors)
    return artifacts


def _valid_id(artifact_id: str) -> bool:
    return 0 < len(artifact_id) <= MAX_ID_LENGTH and "\x00" not in artifact_id


async def _get_or_404(artifact_id: str) -> Artifact:
    artifact = await get_artifact_store().get(artifact_id) if _valid_id(artifact_id) else None
    if artifact is None:
        raise Http404(f"No artifact with id {artifact_id!r}.")
    return artifact


# Workflows and agents: the rollup summaries the dashboard lists, with the ledger's tokens and cost.

workflows_router = Router(tags=["workflows"])
agents_router = Router(tags=["agents"])


class UsageOut(Schema):
    """LLM usage attributed to a workflow or agent. cost_complete is false when some calls had no known price."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    cost_complete: bool = True


class WorkflowOut(Schema):
    workflow_id: str
    artifact_count: int
    agent_count: int
    task_count: int
    first_at: datetime
    last_at: datetime
    agent_ids: list[str] = Field(description=f"The busiest agents, at most {AGENTS_PER_WORKFLOW}.")
    usage: UsageOut


class WorkflowPageOut(Schema):
    items: list[WorkflowOut]
    next_cursor: str | None


class AgentOut(Schema):
    agent_id: str
    artifact_count: int
    workflow_count: int
    first_at: datetime
    last_at: datetime
    usage: UsageOut


class AgentPageOut(Schema):
    items: list[AgentOut]
    next_cursor: str | None


class WorkflowListQuery(Schema):
    agent_id: str | None = Field(
        None, max_length=MAX_ID_LENGTH, description="Only workflows this agent wrote artifacts in."
    )
    q: str | None = Field(None, max_length=200, description="Part of the workflow id.")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = None


class AgentListQuery(Schema):
    limit: int = Field(100, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = None


def _usage(totals: UsageTotals | None) -> UsageOut:
    if totals is None:
        return UsageOut()
    return UsageOut(
        calls=totals.calls,
        prompt_tokens=totals.prompt_tokens,
        completion_tokens=totals.completion_tokens,
        total_tokens=totals.total_tokens,
        cost_usd=totals.cost_usd,
        cost_complete=totals.cost_complete,
    )


def _workflows_out(rows: list[WorkflowSummary]) -> list[WorkflowOut]:
    usage = usage_for_workflows(workflow_ids=[r.workflow_id for r in rows])
    return [
        WorkflowOut(
            workflow_id=r.workflow_id,
            artifact_count=r.artifact_count,
            agent_count=r.agent_count,
            task_count=r.task_count,
            first_at=r.first_at,
            last_at=r.last_at,
            agent_ids=list(r.agent_ids),
            usage=_usage(usage.get(r.workflow_id)),
        )
        for r in rows
    ]


def _agents_out(rows: list[AgentSummary]) -> list[AgentOut]:
    usage = usage_for_agents(agent_ids=[r.agent_id for r in rows])
    return [
        AgentOut(
            agent_id=r.agent_id,
            artifact_count=r.artifact_count,
            workflow_count=r.workflow_count,
            first_at=r.first_at,
            last_at=r.last_at,
            usage=_usage(usage.get(r.agent_id)),
        )
        for r in rows
    ]


@workflows_router.get("", response={200: WorkflowPageOut, **error_responses()}, url_name="workflow_list")
def list_workflows(request: HttpRequest, filters: Query[WorkflowListQuery]) -> WorkflowPageOut:
    """Workflows, most recently active first, with artifact counts, agents, tokens and cost."""
    page = workflow_summaries(
        agent_id=filters.agent_id, id_contains=filters.q or None, limit=filters.limit, cursor=filters.cursor
    )
    return WorkflowPageOut(items=_workflows_out(page.rows), next_cursor=page.next_cursor)


@workflows_router.get("/{workflow_id}", response={200: WorkflowOut, **error_responses(404)}, url_name="workflow")
def get_workflow(request: HttpRequest, workflow_id: str) -> WorkflowOut:
    summary = workflow_summary(workflow_id=workflow_id) if _valid_id(workflow_id) else None
    if summary is None:
        raise Http404(f"No artifacts belong to a workflow {workflow_id!r}.")
    return _workflows_out([summary])[0]


@agents_router.get("", response={200: AgentPageOut, **error_responses()}, url_name="agent_list")
def list_agents(request: HttpRequest, filters: Query[AgentListQuery]) -> AgentPageOut:
    """Agents, most recently active first, with artifact and workflow counts, tokens and cost."""
    page = agent_summaries(limit=filters.limit, cursor=filters.cursor)
    return AgentPageOut(items=_agents_out(page.rows), next_cursor=page.next_cursor)


@agents_router.get("/{agent_id}", response={200: AgentOut, **error_responses(404)}, url_name="agent")
def get_agent(request: HttpRequest, agent_id: str) -> AgentOut:
    summary = agent_summary(agent_id=agent_id) if _valid_id(agent_id) else None
    if summary is None:
        raise Http404(f"No artifacts were written by an agent {agent_id!r}.")
    return _agents_out([summary])[0]
