"""Workflow runs kept in the database, so the dashboard can start one and watch it progress."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from agents.base import Task, TaskResult
from agents.models import WorkflowRun
from agents.pipeline import PIPELINE, ProducingAgent
from agents.workflow import WorkflowRunner, new_workflow_id
from artifacts.store import get_artifact_store
from llm.configured import aprovider_for
from llm.models import ProviderConfig

MAX_SPECIFICATION_CHARS = 10_000
# A running workflow whose worker has been silent this long is declared dead (e.g. the worker was killed).
STALE_AFTER = timedelta(minutes=10)


class WorkflowRunError(ValueError):
    """A run cannot be started; the message says why and what is allowed."""


def start_workflow_run(*, specification: str, provider_name: str, user: Any = None) -> WorkflowRun:
    """Validate, record a queued run and enqueue it for the background worker."""
    from agents.tasks import run_workflow_task

    run = create_workflow_run(specification=specification, provider_name=provider_name, user=user)
    transaction.on_commit(lambda: run_workflow_task.enqueue(run.pk))
    return run


def create_workflow_run(*, specification: str, provider_name: str, user: Any = None) -> WorkflowRun:
    specification = (specification or "").strip()
    if not specification:
        raise WorkflowRunError("Describe what to build: the specification must not be empty.")
    if len(specification) > MAX_SPECIFICATION_CHARS:
        raise WorkflowRunError(f"The specification must be at most {MAX_SPECIFICATION_CHARS:,} characters.")
    if not ProviderConfig.objects.filter(name=provider_name, enabled=True).exists():
        known = ", ".join(ProviderConfig.objects.filter(enabled=True).values_list("name", flat=True)) or "none"
        raise WorkflowRunError(f"No enabled provider config named {provider_name!r}; enabled configs: {known}.")
    return WorkflowRun.objects.create(
        workflow_id=new_workflow_id(),
        specification=specification,
        provider_name=provider_name,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        steps=[_step(cls) for cls in PIPELINE],
    )


async def execute_workflow_run(run_id: int) -> WorkflowRun:
    """Run a recorded workflow to its end, saving each step's progress as it happens."""
    run = await WorkflowRun.objects.aget(pk=run_id)
    if run.finished:
        return run
    now = timezone.now()
    run.status, run.started_at, run.heartbeat_at = WorkflowRun.Status.RUNNING, now, now
    await run.asave(update_fields=["status", "started_at", "heartbeat_at"])
    try:
        provider = await aprovider_for(run.provider_name)
        runner = WorkflowRunner(llm_provider=provider, artifact_store=get_artifact_store())

        async def on_step(index: int, agent: ProducingAgent, task: Task, result: TaskResult | None) -> None:
            run.steps[index].update(_step_progress(task, result))
            run.heartbeat_at = timezone.now()
            await run.asave(update_fields=["steps", "heartbeat_at"])

        outcome = await runner.run(run.specification, workflow_id=run.workflow_id, on_step=on_step)
        failed = outcome.failed_task
        run.status = WorkflowRun.Status.FAILED if failed else WorkflowRun.Status.SUCCEEDED
        run.error = f"Task {failed.task_id} failed: {failed.error}" if failed else ""
    except Exception as exc:
        run.status, run.error = WorkflowRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
    run.finished_at = timezone.now()
    await run.asave(update_fields=["status", "error", "finished_at"])
    return run


def fail_stale_runs(*, now: Any = None) -> int:
    """Mark runs whose worker went silent (killed, crashed) as failed, so none stays "running" forever."""
    now = now or timezone.now()
    return WorkflowRun.objects.filter(
        status__in=[WorkflowRun.Status.RUNNING], heartbeat_at__lt=now - STALE_AFTER
    ).update(status=WorkflowRun.Status.FAILED, error="The worker stopped during this run.", finished_at=now)


afail_stale_runs = sync_to_async(fail_stale_runs)


def _step(cls: type[ProducingAgent]) -> dict[str, Any]:
    return {"agent_id": cls.default_agent_id, "artifact_type": cls.artifact_type, "status": "pending"}


def _step_progress(task: Task, result: TaskResult | None) -> dict[str, Any]:
    if result is None:
        return {"task_id": task.task_id, "status": "running"}
    return {
        "status": str(result.status),
        "artifact_id": result.output_data.get("artifact_id"),
        "tokens": result.output_data.get("tokens_used"),
        "llm_call_id": result.output_data.get("llm_call_id"),
        "error": result.error,
    }
