"""Background tasks (Django's tasks framework; the database backend and its `db_worker` run them)."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.tasks import task

from agents.runs import execute_workflow_run


@task
def run_workflow_task(run_id: int) -> str:
    run = async_to_sync(execute_workflow_run)(run_id)
    return str(run.status)
