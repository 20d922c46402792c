"""`manage.py db_worker`: django-tasks-db's worker, which also cleans up after workers that died.

A worker killed mid-run (SIGKILL, out of memory, the machine lost) leaves its workflow run "running" and
its task result "RUNNING". This worker marks such runs failed (see `agents.runs.fail_stale_runs`) when it
starts and then every CONDUCTOR_RUN_STALE_AFTER_SECONDS / 2 seconds, so with any worker alive nothing
stays running for ever. On SIGTERM it finishes the task in hand, then exits (django-tasks-db's behaviour).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from agents.runs import fail_stale_runs

log = logging.getLogger(__name__)


class Command(DatabaseWorkerCommand):
    help = "Run the database task worker; runs whose worker died are marked failed at start and periodically."

    def handle(self, *args: Any, **options: Any) -> None:
        _sweep()
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep_every, args=(stop,), name="stale-run-sweeper", daemon=True)
        sweeper.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()


def _sweep() -> None:
    try:
        fail_stale_runs()
    except DatabaseError:
        log.warning("Could not look for workflow runs left by a dead worker", exc_info=True)
    finally:
        connections.close_all()  # this thread's connections go back to the pool


def _sweep_every(stop: threading.Event) -> None:
    interval = settings.CONDUCTOR_RUN_STALE_AFTER_SECONDS / 2
    while not stop.wait(interval):
        _sweep()
