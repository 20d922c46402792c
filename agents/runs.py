"""Workflow runs kept in the database, so the dashboard can start one and watch it progress."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone

from agents.base import Task, TaskResult
from agents.models import WorkflowRun
from agents.pipeline import PIPELINE, ProducingAgent
from agents.workflow import WorkflowRunner, new_workflow_id
from artifacts.store import get_artifact_store
from llm.configured import aprovider_for
from llm.models import ProviderConfig

log = logging.getLogger(__name__)

MAX_SPECIFICATION_CHARS = 10_000
WORKER_LOST = "The worker stopped during this run (killed, crashed or its machine went away)."


class WorkflowRunError(ValueError):
    """A run cannot be started; the message says why and what is allowed."""


class WorkerLostError(RuntimeError):
    """Recorded on the task result of a run whose worker went silent."""


def stale_after() -> timedelta:
    """A running workflow whose worker has been silent this long is declared dead."""
    return timedelta(seconds=settings.CONDUCTOR_RUN_STALE_AFTER_SECONDS)


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
    # A step may wait on an LLM for minutes; the heartbeat goes on beside it, so only a dead worker falls silent.
    heartbeat = asyncio.create_task(_beat(run.pk))
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
    finally:
        heartbeat.cancel()
    run.finished_at = timezone.now()
    await run.asave(update_fields=["status", "error", "finished_at"])
    return run


async def _beat(run_id: int) -> None:
    while True:
        await asyncio.sleep(settings.CONDUCTOR_RUN_HEARTBEAT_SECONDS)
        try:
            await WorkflowRun.objects.filter(pk=run_id, status=WorkflowRun.Status.RUNNING).aupdate(
                heartbeat_at=timezone.now()
            )
        except DatabaseError:
            log.warning("Could not record the heartbeat of workflow run %s", run_id, exc_info=True)


def fail_stale_runs(*, now: Any = None) -> int:
    """Mark runs whose worker went silent (killed, crashed) as failed, with their task results, so none stays
    "running" forever. Called when a worker starts, every so often by each worker, and by the progress page."""
    now = now or timezone.now()
    stale = WorkflowRun.objects.filter(status=WorkflowRun.Status.RUNNING, heartbeat_at__lt=now - stale_after())
    with transaction.atomic():
        run_ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not run_ids:
            return 0
        WorkflowRun.objects.filter(pk__in=run_ids).update(
            status=WorkflowRun.Status.FAILED, error=WORKER_LOST, finished_at=now
        )
    _fail_task_results(run_ids)
    log.warning("Marked %d workflow run(s) failed: their worker went silent (ids %s)", len(run_ids), run_ids)
    return len(run_ids)


def _fail_task_results(run_ids: list[int]) -> None:
    """The database task queue's own records of those runs, which a killed worker left "running"."""
    from django_tasks_db.models import DBTaskResult

    from agents.tasks import run_workflow_task

    results = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, task_path=run_workflow_task.module_path
    ).only("pk", "args_kwargs")
    for result in results:
        if (result.args_kwargs.get("args") or [None])[0] in run_ids:
            result.set_failed(WorkerLostError(WORKER_LOST))


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
