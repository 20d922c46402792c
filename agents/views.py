from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from agents.forms import StartWorkflowForm
from agents.models import WorkflowRun
from agents.runs import WorkflowRunError, fail_stale_runs, start_workflow_run
from conductor_site.htmx import HtmxHttpRequest


@require_http_methods(["GET", "POST"])
def start_workflow(request: HtmxHttpRequest) -> HttpResponse:
    form = StartWorkflowForm(request.POST or None, initial={"provider": "mock"})
    if request.method == "POST" and form.is_valid():
        try:
            run = start_workflow_run(
                specification=form.cleaned_data["specification"],
                provider_name=form.cleaned_data["provider"],
                user=request.user,
            )
        except WorkflowRunError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("workflow-detail", workflow_id=run.workflow_id)
    status = 400 if form.errors else 200
    return render(request, "agents/start_workflow.html", {"form": form}, status=status)


@require_GET
def run_progress(request: HtmxHttpRequest, workflow_id: str) -> HttpResponse:
    """The run's steps; while it runs, the fragment polls itself (htmx) until the run ends."""
    fail_stale_runs()
    run = get_object_or_404(WorkflowRun, workflow_id=workflow_id)
    response = render(request, "agents/_run_progress.html", {"run": run})
    if run.finished and request.htmx:
        # The poll that sees the end reloads the page, so the timeline, calls and usage appear.
        response["HX-Refresh"] = "true"
    return response
