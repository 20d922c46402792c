"""An operator starts the agent pipeline from the dashboard; the database task queue and its worker run it."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker

from agents.models import WorkflowRun
from llm.models import ProviderConfig
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def run_worker_once() -> None:
    """The worker behind `manage.py db_worker --batch`: work through the queue, then stop. It runs in a
    thread of its own (this thread hosts Playwright's event loop), so without the command's signal set-up."""

    def work() -> None:
        worker = Worker(
            queue_names=["default"],
            interval=0.1,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="browser-test",
            excluded_queue_names=[],
        )
        try:
            worker.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the worker did not finish the queue within 60 s"


def test_a_workflow_started_from_the_dashboard_runs_in_the_worker(logged_in_page, settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    ProviderConfig.objects.get_or_create(name="mock", defaults={"provider": "mock", "model": "mock-model"})
    page = logged_in_page

    page.goto("/workflows/")
    page.fill("#id_specification", "A token bucket rate limiter")
    page.click("text=Start workflow")
    page.wait_for_selector('#run-progress[data-status="queued"]')
    screenshot(page, "workflow-run-queued")
    run = WorkflowRun.objects.get()
    assert run.status == WorkflowRun.Status.QUEUED  # nothing ran in the request

    run_worker_once()

    # The page polls, sees the end and reloads into the full workflow page.
    page.wait_for_selector('#run-progress[data-status="succeeded"]', timeout=15_000)
    page.wait_for_selector(".timeline, #tasks", timeout=15_000)
    assert page.locator('[data-step-status="completed"]').count() == 7
    screenshot(page, "workflow-run-finished")
