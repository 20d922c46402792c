from django.contrib import admin

from agents.models import WorkflowRun


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin):
    list_display = ["workflow_id", "status", "provider_name", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "provider_name"]
    search_fields = ["workflow_id", "specification"]
    readonly_fields = ["workflow_id", "steps", "started_at", "finished_at", "heartbeat_at", "created_at"]
