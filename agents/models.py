from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class WorkflowRun(models.Model):
    """One run of the agent pipeline, started from the dashboard or `manage.py run_workflow`."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    workflow_id = models.CharField(max_length=200, unique=True)
    specification = models.TextField()
    provider_name = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    steps = models.JSONField(default=list, help_text="One entry per pipeline step, updated as it runs.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life from the worker.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="workflowrun_status_idx")]

    def __str__(self) -> str:
        return self.workflow_id

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}

    @property
    def completed_steps(self) -> int:
        return sum(step["status"] == "completed" for step in self.steps)
