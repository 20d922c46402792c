"""The playground pages: the page, one column's event stream, saving an output, and a replay's diff.

With JavaScript (static/js/playground.js) every selected config gets its own stream from
`playground_stream`, all at once; without it, posting the form runs the columns on the server and
renders their results. Views are thin: `llm.playground` does the work.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator
from decimal import Decimal, InvalidOperation
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from artifacts.store import get_artifact_store
from artifacts.store.artifact import ArtifactError
from conductor_site.htmx import HtmxHttpRequest
from llm import playground
from llm.forms import ColumnForm, PlaygroundForm, SaveArtifactForm
from llm.models import LLMCall, ProviderConfig
from llm.sse import event_stream_response, sse_event
from llm.templatetags.usage_display import usd

SESSION_WORKFLOW = "playground_workflow"
DEFAULT_CONFIG = "mock"


def _new_workflow(username: str) -> str:
    return f"playground-{username[:60] or 'operator'}-{timezone.now():%Y%m%d}-{secrets.token_hex(3)}"


def _new_run_id() -> str:
    return f"run-{secrets.token_hex(4)}"


def _session_workflow(request: HttpRequest) -> str:
    """The workflow this browser session's runs are filed under, made on first use."""
    workflow = request.session.get(SESSION_WORKFLOW)
    if not workflow:
        workflow = request.session[SESSION_WORKFLOW] = _new_workflow(request.user.get_username())
    return workflow


async def _asession_workflow(request: HttpRequest) -> str:
    workflow = await request.session.aget(SESSION_WORKFLOW)
    if not workflow:
        user = await request.auser()
        workflow = _new_workflow(user.get_username())
        await request.session.aset(SESSION_WORKFLOW, workflow)
    return workflow


def _display(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data, plus what the page shows as is: the call's URL and the cost as money."""
    if data.get("call_id"):
        data["call_url"] = reverse("call-detail", args=[data["call_id"]])
    if "cost_usd" in data:
        try:
            cost = None if data["cost_usd"] is None else Decimal(data["cost_usd"])
        except InvalidOperation:
            cost = None
        data["cost_display"] = usd(cost)
    return data


@require_http_methods(["GET", "POST"])
def playground_page(request: HtmxHttpRequest) -> HttpResponse:
    workflow = _session_workflow(request)
    replay, replay_error, results = None, None, None
    if request.method == "POST":
        form = PlaygroundForm(request.POST, session_workflow=workflow)
        if form.is_valid():
            run = form.playground_run(default_workflow=workflow, task_id=_new_run_id())
            results = async_to_sync(_run_columns)(list(form.cleaned_data["configs"]), run)
            if replay_id := form.cleaned_data["replay"]:
                replay, replay_error = _replay(replay_id)
    else:
        initial: dict[str, Any] = {"configs": ProviderConfig.objects.filter(name=DEFAULT_CONFIG, enabled=True)}
        if replay_id := request.GET.get("replay", ""):
            replay, replay_error = _replay(replay_id)
            if replay is not None:
                initial.update(_replay_initial(replay))
        form = PlaygroundForm(initial=initial, session_workflow=workflow)
    columns = _result_columns(results, replay) if results is not None else []
    context = {
        "form": form,
        "workflow": workflow,
        "replay": replay,
        "replay_error": replay_error,
        "columns": columns,
        "save_form": SaveArtifactForm(auto_id=False),
    }
    return render(request, "llm/playground.html", context, status=400 if form.errors else 200)


def _replay(artifact_id: str) -> tuple[playground.ReplaySource | None, str | None]:
    try:
        return async_to_sync(playground.replay_source)(artifact_id), None
    except playground.PlaygroundError as exc:
        return None, str(exc)


def _replay_initial(replay: playground.ReplaySource) -> dict[str, Any]:
    call = replay.call
    params = call.request_params if isinstance(call.request_params, dict) else {}
    configs = ProviderConfig.objects.filter(enabled=True, name__in=[call.config_name, DEFAULT_CONFIG])
    return {
        "configs": configs.filter(name=call.config_name) if configs.filter(name=call.config_name) else configs,
        "system": call.system,
        "prompt": call.prompt,
        "temperature": params.get("temperature"),
        "max_tokens": params.get("max_tokens"),
        "replay": replay.artifact.artifact_id,
    }


async def _run_columns(
    configs: list[ProviderConfig], run: playground.PlaygroundRun
) -> list[tuple[playground.Started, str, dict[str, Any]]]:
    async def one(config: ProviderConfig) -> tuple[playground.Started, str, dict[str, Any]]:
        started, text, outcome = None, [], None
        async for event in playground.run_column(config, run):
            if isinstance(event, playground.Started):
                started = event
            elif isinstance(event, playground.Chunk):
                text.append(event.text)
            else:
                outcome = event
        assert started is not None and outcome is not None
        return started, "".join(text), {"event": outcome.event, **_display(outcome.data())}

    return list(await asyncio.gather(*(one(config) for config in configs)))


def _result_columns(
    results: list[tuple[playground.Started, str, dict[str, Any]]], replay: playground.ReplaySource | None
) -> list[dict[str, Any]]:
    calls = LLMCall.objects.in_bulk([outcome["call_id"] for _, _, outcome in results if outcome.get("call_id")])
    columns = []
    for started, text, outcome in results:
        call = calls.get(outcome.get("call_id"))
        diff = playground.replay_diff(replay.artifact, call) if replay is not None and call is not None else None
        columns.append({"started": started, "text": text, "outcome": outcome, "call": call, "diff": diff})
    return columns


@require_POST
async def playground_stream(request: HttpRequest) -> HttpResponse:
    """One column as server-sent events: `start`, `chunk`…, then `done` or `error` (see llm.playground)."""
    form = ColumnForm(request.POST)
    if not await sync_to_async(form.is_valid)():
        return JsonResponse({"errors": {name: list(errors) for name, errors in form.errors.items()}}, status=400)
    run = form.playground_run(
        default_workflow=await _asession_workflow(request), task_id=form.cleaned_data["run"] or _new_run_id()
    )
    return event_stream_response(_column_events(form.cleaned_data["config"], run))


async def _column_events(config: ProviderConfig, run: playground.PlaygroundRun) -> AsyncGenerator[str]:
    async for event in playground.run_column(config, run):
        data = event.data() if isinstance(event, playground.Chunk) else _display(event.data())
        yield sse_event(event.event, data)


@require_POST
def playground_save(request: HtmxHttpRequest) -> HttpResponse:
    form = SaveArtifactForm(request.POST, auto_id=False)
    artifact, error = None, None
    if form.is_valid():
        data = form.cleaned_data
        try:
            artifact = async_to_sync(playground.save_call_as_artifact)(
                call_id=data["call_id"],
                artifact_type=data["artifact_type"],
                workflow_id=data["workflow"],
                task_id=data["task"],
                agent_id=data["agent"],
            )
        except (playground.PlaygroundError, ArtifactError) as exc:
            error = str(exc)
    else:
        error = " ".join(
            f"{'' if name == '__all__' else name + ': '}{' '.join(errors)}" for name, errors in form.errors.items()
        )
    if request.htmx:
        context = {"artifact": artifact, "error": error}
        return render(request, "llm/playground.html#saved", context, status=400 if error else 200)
    if error:
        messages.error(request, f"The output was not saved: {error}")
        return redirect("playground")
    assert artifact is not None
    messages.success(request, f"Saved as artifact {artifact.artifact_id}.")
    return redirect("artifact-detail", artifact_id=artifact.artifact_id)


@require_GET
def playground_diff(request: HtmxHttpRequest) -> HttpResponse:
    """The diff of a new call's output against the artifact being replayed (an htmx fragment)."""
    artifact_id, call_id = request.GET.get("artifact", ""), request.GET.get("call", "")
    artifact = async_to_sync(get_artifact_store().get)(artifact_id) if artifact_id else None
    call = LLMCall.objects.filter(pk=int(call_id)).first() if call_id.isdigit() and len(call_id) < 19 else None
    diff, error = None, None
    if artifact is None:
        error = f"No artifact has id {artifact_id!r}."
    elif call is None:
        error = "No recorded call has that number."
    else:
        diff = playground.replay_diff(artifact, call)
    return render(request, "llm/playground.html#diff", {"diff": diff, "error": error}, status=404 if error else 200)
