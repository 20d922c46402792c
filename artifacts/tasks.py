"""Background tasks of the artifact store (Django 6 `django.tasks`)."""

from __future__ import annotations

from django.tasks import task

from artifacts.expiry import purge_expired_artifacts


@task
async def purge_expired_artifacts_task() -> int:
    """Purge expired artifacts of the configured store; enqueue it from a scheduler (cron, beat…)."""
    return await purge_expired_artifacts()
