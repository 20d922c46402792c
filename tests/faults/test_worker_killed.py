"""The task worker is killed (SIGKILL) in the middle of a workflow run: the run, and the task queue's record
of it, end up failed — never "running" for ever — and a worker stopped with SIGTERM finishes its run first."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from agents.models import WorkflowRun
from agents.runs import WORKER_LOST, start_workflow_run
from conductor_site.local_servers import database_url
from llm.models import ProviderConfig
from tests.llm.vendor_servers import FakeOpenAIServer, Reply
from tests.processes import ROOT, base_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def vendor():
    with FakeOpenAIServer(api_key=None) as server:
        yield server


@pytest.fixture
def queued_run(vendor, settings) -> WorkflowRun:
    """A run in the database queue, for the agents pipeline on an OpenAI-compatible vendor."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    config = ProviderConfig(
        name="vendor", provider="openai", model="gpt-4o-mini", base_url=vendor.base_url, timeout_seconds=60
    )
    config.set_api_key("sk-any-key-the-fake-server-accepts")
    config.save()
    return start_workflow_run(specification="A token bucket rate limiter", provider_name="vendor")


def start_worker() -> subprocess.Popen[bytes]:
    env = base_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CONDUCTOR_RUN_HEARTBEAT_SECONDS="1",
        CONDUCTOR_RUN_STALE_AFTER_SECONDS="3",
        LOG_LEVEL="WARNING",
    )
    argv = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1"]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def task_result() -> DBTaskResult:
    return DBTaskResult.objects.get()


def test_a_killed_worker_leaves_a_failed_run_and_task_result_not_a_running_one(vendor, queued_run) -> None:
    vendor.default_reply = Reply.hang(30)  # the first step's LLM call does not answer
    worker = start_worker()
    try:
        wait_until(lambda: vendor.completion_requests, timeout=20, what="the worker to call the LLM")
        queued_run.refresh_from_db()
        started_beat = queued_run.heartbeat_at
        assert queued_run.status == WorkflowRun.Status.RUNNING
        # The heartbeat goes on while the step waits for the LLM: a slow step is not a dead worker.
        wait_until(
            lambda: WorkflowRun.objects.get().heartbeat_at > started_beat, timeout=5, what="a heartbeat mid-step"
        )
        worker.kill()
        worker.wait(timeout=10)
        assert WorkflowRun.objects.get().status == WorkflowRun.Status.RUNNING  # no one knows yet
        assert task_result().status == "RUNNING"

        worker = start_worker()  # any live worker notices, at start or on its periodic sweep
        wait_until(
            lambda: WorkflowRun.objects.get().status != WorkflowRun.Status.RUNNING,
            timeout=15,
            what="the run to be marked failed",
        )
    finally:
        worker.kill()
        worker.wait(timeout=10)
    run = WorkflowRun.objects.get()
    assert (run.status, run.error) == (WorkflowRun.Status.FAILED, WORKER_LOST)
    assert run.finished_at is not None
    result = task_result()
    assert result.status == "FAILED" and result.exception_class_path == "agents.runs.WorkerLostError"


def test_a_worker_stopped_with_sigterm_finishes_its_run_first(vendor, queued_run) -> None:
    vendor.queue(Reply.hang(1.5))  # the first step is slow; the rest answer at once
    worker = start_worker()
    try:
        wait_until(lambda: vendor.completion_requests, timeout=20, what="the worker to call the LLM")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    run = WorkflowRun.objects.get()
    assert run.status == WorkflowRun.Status.SUCCEEDED, run.error
    assert len(vendor.completion_requests) == len(run.steps)
    assert task_result().status == "SUCCESSFUL"
