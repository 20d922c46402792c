from django.contrib import admin

from artifacts.models import ArtifactRecord


@admin.register(ArtifactRecord)
class ArtifactRecordAdmin(admin.ModelAdmin):
    list_display = ["artifact_id", "artifact_type", "workflow_id", "task_id", "agent_id", "created_at"]
    list_filter = ["artifact_type", "agent_id", "workflow_id"]
    search_fields = ["artifact_id", "workflow_id", "task_id", "agent_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Artifacts are write-once: an existing one keeps its id and placement.
        if obj is not None:
            return ["artifact_id", "workflow_id", "task_id", "agent_id", "artifact_type", "created_at"]
        return []
