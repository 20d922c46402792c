from django.urls import path

from agents import views

urlpatterns = [
    path("runs/start/", views.start_workflow, name="workflow-run-start"),
    path("runs/<path:workflow_id>/progress", views.run_progress, name="workflow-run-progress"),
]
