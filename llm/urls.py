from django.urls import path

from llm import views

urlpatterns = [
    path("usage/", views.usage_overview, name="usage"),
    path("usage/calls/", views.call_list, name="call-list"),
    path("usage/calls/<int:call_id>/", views.call_detail, name="call-detail"),
]
