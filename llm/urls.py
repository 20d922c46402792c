from django.urls import path

from llm import playground_views, views

urlpatterns = [
    path("usage/", views.usage_overview, name="usage"),
    path("usage/calls/", views.call_list, name="call-list"),
    path("usage/calls/<int:call_id>/", views.call_detail, name="call-detail"),
    path("playground/", playground_views.playground_page, name="playground"),
    path("playground/stream", playground_views.playground_stream, name="playground-stream"),
    path("playground/save", playground_views.playground_save, name="playground-save"),
    path("playground/diff", playground_views.playground_diff, name="playground-diff"),
]
