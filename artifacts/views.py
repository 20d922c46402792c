from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from artifacts.models import ArtifactRecord


def home(request: HttpRequest) -> HttpResponse:
    by_type = ArtifactRecord.objects.values("artifact_type").annotate(n=Count("pk")).order_by("artifact_type")
    recent = ArtifactRecord.objects.defer("content", "search").order_by("-created_at", "-artifact_id")[:20]
    return render(request, "artifacts/home.html", {"by_type": by_type, "recent": recent})
