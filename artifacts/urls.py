from django.urls import path

import conductor_site.converters  # noqa: F401  (registers <id:>)
from artifacts import views

# Ids may hold any character but NUL, slashes included, hence <id:>. Raw and delete URLs end
# without a slash and the detail URL with one, so no id makes them ambiguous.
urlpatterns = [
    path("", views.home, name="home"),
    path("workflows/", views.workflow_list, name="workflow-list"),
    path("workflows/<id:workflow_id>/", views.workflow_detail, name="workflow-detail"),
    path("agents/", views.agent_list, name="agent-list"),
    path("agents/<id:agent_id>/", views.agent_detail, name="agent-detail"),
    path("tasks/<id:task_id>/", views.task_detail, name="task-detail"),
    path("artifacts/", views.artifact_list, name="artifact-list"),
    path("artifacts/<id:artifact_id>/raw", views.artifact_raw, name="artifact-raw"),
    path("artifacts/<id:artifact_id>/delete", views.artifact_delete, name="artifact-delete"),
    path("artifacts/<id:artifact_id>/", views.artifact_detail, name="artifact-detail"),
]
