from django.urls import path

import conductor_site.converters  # noqa: F401  (registers <id:>)
from agents import views

urlpatterns = [
    path("runs/start/", views.start_workflow, name="workflow-run-start"),
    path("runs/<id:workflow_id>/progress", views.run_progress, name="workflow-run-progress"),
]
