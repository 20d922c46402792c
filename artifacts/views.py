"""The dashboard's artifact pages: home, workflows, agents, tasks, the artifact list and an artifact.

Views are thin: they parse the request, call `artifacts.queries` (which the JSON API shares) and
render. A page answers an htmx request with the partial that changed (`template#partial`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect, push_url

from agents.forms import StartWorkflowForm
from agents.models import WorkflowRun
from artifacts import queries
from artifacts.downloads import attachment_disposition
from artifacts.forms import ArtifactFilterForm, WorkflowSearchForm
from artifacts.highlighting import MAX_HIGHLIGHT_BYTES, highlight_content
from artifacts.models import ArtifactRecord
from artifacts.store import get_artifact_store
from artifacts.store.artifact import InvalidArtifactError, artifact_types
from artifacts.versions import artifact_version_diff
from conductor_site.htmx import HtmxHttpRequest, render_page
from llm import usage
from llm.playground import replay_call_id

PAGE_SIZE = 50
MAX_VERSIONS = 50
RECENT_CALLS = 10
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "all": None}
DEFAULT_PERIOD = "7d"


def _cursor(request: HtmxHttpRequest) -> str | None:
    return request.GET.get("cursor") or None


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}" if params else url


def _period(request: HtmxHttpRequest) -> tuple[str, datetime | None]:
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    window = PERIODS[period]
    return period, (datetime.now(UTC) - window if window else None)


def _record_or_404(artifact_id: str) -> ArtifactRecord:
    # The content is read through the store (it may be compressed or in object storage), never here.
    record = ArtifactRecord.objects.defer("content", "content_blob").filter(pk=artifact_id).first()
    if record is None:
        raise Http404("No artifact with this id.")
    return record


def _workflows_with_usage(
    workflows: list[queries.WorkflowSummary],
) -> list[tuple[queries.WorkflowSummary, usage.UsageTotals | None]]:
    spent = usage.usage_for_workflows(workflow_ids=[w.workflow_id for w in workflows])
    return [(w, spent.get(w.workflow_id)) for w in workflows]


def _staff_user(request: HtmxHttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can delete artifacts.")


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    period, since = _period(request)
    context = {
        "period": period,
        "periods": list(PERIODS),
        "totals": queries.artifact_totals(since=since),
        "usage": usage.usage_totals(since=since),
        "workflows": _workflows_with_usage(queries.workflow_summaries(limit=8).rows),
        "failed_calls": usage.call_page(filters=usage.CallFilters(status="error", since=since), limit=5).rows,
    }
    return render_page(request, "artifacts/home.html", context, partial="totals")


@require_GET
def workflow_list(request: HtmxHttpRequest) -> HttpResponse:
    search = WorkflowSearchForm(request.GET).search()
    try:
        page = queries.workflow_summaries(id_contains=search or None, limit=PAGE_SIZE, cursor=_cursor(request))
    except InvalidArtifactError:
        return redirect(_with_query(reverse("workflow-list"), {"q": search} if search else {}))
    params = {"q": search} if search else {}
    context = {
        "page": page,
        "workflows": _workflows_with_usage(page.rows),
        "search": search,
        "next_url": _with_query(reverse("workflow-list"), {**params, "cursor": page.next_cursor})
        if page.next_cursor
        else None,
        "start_form": StartWorkflowForm(initial={"provider": "mock"}),
    }
    partial = "rows" if _cursor(request) else "results"
    response = render_page(request, "artifacts/workflow_list.html", context, partial=partial)
    if request.htmx and not _cursor(request):
        push_url(response, _with_query(reverse("workflow-list"), params))
    return response


@require_GET
def workflow_detail(request: HtmxHttpRequest, workflow_id: str) -> HttpResponse:
    workflow = queries.workflow_summary(workflow_id=workflow_id)
    run = WorkflowRun.objects.filter(workflow_id=workflow_id).first()
    if workflow is None:
        if run is None:
            raise Http404("No artifacts belong to this workflow.")
        # A pipeline run that has stored nothing yet: show its progress until it does.
        return render(request, "agents/run_page.html", {"run": run})
    try:
        timeline = queries.workflow_timeline(workflow_id=workflow_id, limit=20, cursor=_cursor(request))
    except InvalidArtifactError:
        return redirect("workflow-detail", workflow_id=workflow_id)
    url = reverse("workflow-detail", args=[workflow_id])
    context = {
        "workflow": workflow,
        "timeline": timeline,
        "usage": usage.usage_totals(workflow_id=workflow_id),
        "usage_by_agent": usage.usage_grouped(group_by="agent", workflow_id=workflow_id, limit=20),
        "calls": usage.call_page(filters=usage.CallFilters(workflow_id=workflow_id), limit=RECENT_CALLS).rows,
        "calls_url": _with_query(reverse("call-list"), {"workflow": workflow_id}),
        "next_url": _with_query(url, {"cursor": timeline.next_cursor}) if timeline.next_cursor else None,
        "artifacts_url": _with_query(reverse("artifact-list"), {"workflow": workflow_id}),
        "run": run,
    }
    return render_page(request, "artifacts/workflow_detail.html", context, partial="tasks")


@require_GET
def agent_list(request: HtmxHttpRequest) -> HttpResponse:
    try:
        page = queries.agent_summaries(limit=100, cursor=_cursor(request))
    except InvalidArtifactError:
        return redirect("agent-list")
    spent = usage.usage_for_agents(agent_ids=[a.agent_id for a in page.rows])
    context = {
        "agents": [(a, spent.get(a.agent_id)) for a in page.rows],
        "next_url": _with_query(reverse("agent-list"), {"cursor": page.next_cursor}) if page.next_cursor else None,
    }
    return render_page(request, "artifacts/agent_list.html", context, partial="rows")


@require_GET
def agent_detail(request: HtmxHttpRequest, agent_id: str) -> HttpResponse:
    agent = queries.agent_summary(agent_id=agent_id)
    if agent is None:
        raise Http404("No artifacts were written by this agent.")
    try:
        workflows = queries.workflow_summaries(agent_id=agent_id, limit=20, cursor=_cursor(request))
    except InvalidArtifactError:
        return redirect("agent-detail", agent_id=agent_id)
    url = reverse("agent-detail", args=[agent_id])
    context = {
        "agent": agent,
        "workflows": _workflows_with_usage(workflows.rows),
        "usage": usage.usage_totals(agent_id=agent_id),
        "calls": usage.call_page(filters=usage.CallFilters(agent_id=agent_id), limit=RECENT_CALLS).rows,
        "calls_url": _with_query(reverse("call-list"), {"agent": agent_id}),
        "recent": queries.artifact_page(filters=queries.ArtifactFilters(agent_id=agent_id), limit=10).rows,
        "next_url": _with_query(url, {"cursor": workflows.next_cursor}) if workflows.next_cursor else None,
        "artifacts_url": _with_query(reverse("artifact-list"), {"agent": agent_id}),
    }
    if request.htmx and _cursor(request):
        return render_page(request, "artifacts/workflow_list.html", context, partial="rows")
    return render_page(request, "artifacts/agent_detail.html", context)


@require_GET
def task_detail(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    placements = queries.task_placements(task_id=task_id)
    if not placements:
        raise Http404("No artifacts belong to this task.")
    try:
        page = queries.artifact_page(
            filters=queries.ArtifactFilters(task_id=task_id),
            limit=PAGE_SIZE,
            cursor=_cursor(request),
            newest_first=False,
        )
    except InvalidArtifactError:
        return redirect("task-detail", task_id=task_id)
    url = reverse("task-detail", args=[task_id])
    context = {
        "task_id": task_id,
        "placements": placements,
        "artifact_count": sum(p.artifact_count for p in placements),
        "artifacts": page.rows,
        "agent_ids": sorted({r.agent_id for r in page.rows}),
        "calls": [
            call
            for p in placements
            for call in usage.call_page(
                filters=usage.CallFilters(workflow_id=p.workflow_id, task_id=task_id), limit=RECENT_CALLS
            ).rows
        ],
        "next_url": _with_query(url, {"cursor": page.next_cursor}) if page.next_cursor else None,
    }
    if request.htmx and _cursor(request):
        return render_page(request, "artifacts/artifact_list.html", context, partial="rows")
    return render_page(request, "artifacts/task_detail.html", context)


@require_GET
def artifact_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ArtifactFilterForm(request.GET)
    form.is_valid()
    active = form.active()
    cursor = _cursor(request)
    try:
        page = queries.artifact_page(filters=form.filters(), limit=PAGE_SIZE, cursor=cursor)
    except InvalidArtifactError as exc:
        if cursor:
            return redirect(_with_query(reverse("artifact-list"), active))
        form.add_error(None, str(exc))
        page = queries.ArtifactPage(rows=[], next_cursor=None)
    list_url = _with_query(reverse("artifact-list"), active)
    context = {
        "form": form,
        "artifacts": page.rows,
        "filtered": bool(active),
        "agent_ids": queries.agent_ids(),
        "artifact_types": artifact_types(),
        "next_url": _with_query(reverse("artifact-list"), {**active, "cursor": page.next_cursor})
        if page.next_cursor
        else None,
        "list_url": list_url,
    }
    response = render_page(request, "artifacts/artifact_list.html", context, partial="rows" if cursor else "results")
    if request.htmx and not cursor:
        push_url(response, list_url)
    return response


@require_GET
def artifact_detail(request: HtmxHttpRequest, artifact_id: str) -> HttpResponse:
    record = _record_or_404(artifact_id)
    head = async_to_sync(_content_head)(artifact_id, MAX_HIGHLIGHT_BYTES)
    if head is None:
        raise Http404("No artifact with this id.")
    metadata = record.metadata if isinstance(record.metadata, dict) else {"value": record.metadata}
    versions = queries.version_rows(record=record, limit=MAX_VERSIONS)
    context = {
        "artifact": record,
        "storage": record.content_info,
        "versions": versions if len(versions) > 1 else [],
        "compare": _version_diff(versions, current=artifact_id, other=request.GET.get("compare")),
        "content": highlight_content(
            content=head,
            metadata=metadata,
            artifact_type=record.artifact_type,
            complete=len(head.encode()) >= record.original_size,
        ),
        "metadata": sorted(metadata.items()),
        "size": record.original_size,
        "replay_url": _with_query(reverse("playground"), {"replay": record.artifact_id})
        if replay_call_id(metadata) is not None
        else None,
    }
    return render(request, "artifacts/artifact_detail.html", context)


def _version_diff(versions: list[ArtifactRecord], *, current: str, other: str | None) -> dict[str, Any] | None:
    """The diff from the older to the newer of two versions of one lineage, or None."""
    ids = [version.artifact_id for version in versions]  # oldest first
    if not other or other == current or other not in ids or current not in ids:
        return None
    older, newer = sorted([current, other], key=ids.index)
    diff = async_to_sync(artifact_version_diff)(from_id=older, to_id=newer)
    return {"older": older, "newer": newer, "diff": diff}


async def _content_head(artifact_id: str, max_bytes: int) -> str | None:
    """The content's first `max_bytes` bytes as text (all of it when shorter), wherever it is stored."""
    stream = await get_artifact_store().open_content(artifact_id)
    if stream is None:
        return None
    head = bytearray()
    async for chunk in stream.chunks:
        head += chunk
        if len(head) >= max_bytes:
            break
    # A cut can split a multi-byte character at the end; drop that fragment, nothing else.
    return bytes(head[:max_bytes]).decode("utf-8", errors="ignore")


@require_GET
async def artifact_raw(request: HtmxHttpRequest, artifact_id: str) -> HttpResponseBase:
    stream = await get_artifact_store().open_content(artifact_id)
    if stream is None:
        raise Http404("No artifact with this id.")
    # Always plain text and always an attachment: the content is untrusted and must never render as HTML.
    response = StreamingHttpResponse(stream.chunks, content_type="text/plain; charset=utf-8")
    response["Content-Length"] = str(stream.size)
    response["Content-Disposition"] = attachment_disposition(stream.artifact_id)
    return response


@require_http_methods(["GET", "POST", "DELETE"])
def artifact_delete(request: HtmxHttpRequest, artifact_id: str) -> HttpResponse:
    _staff_user(request)
    record = _record_or_404(artifact_id)
    if request.method == "GET":
        return render(request, "artifacts/artifact_confirm_delete.html", {"artifact": record})
    async_to_sync(get_artifact_store().delete)(record.artifact_id)
    messages.success(request, f"Deleted artifact {record.artifact_id}.")
    destination = _with_query(reverse("artifact-list"), {"workflow": record.workflow_id})
    if request.htmx:
        return HttpResponseClientRedirect(destination)
    return redirect(destination)
