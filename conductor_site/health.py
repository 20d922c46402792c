"""Health check: the one page that needs no login, for load balancers and orchestrators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def health_status() -> tuple[bool, dict[str, str]]:
    """Whether the database answers and every migration is applied, with a word on each."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return False, {"database": f"unreachable: {exc.__class__.__name__}", "migrations": "unknown"}
    migrations = "applied" if not pending else f"{len(pending)} pending"
    return not pending, {"database": "ok", "migrations": migrations}


@require_GET
@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    ok, checks = health_status()
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)
