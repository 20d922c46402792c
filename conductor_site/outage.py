"""When the database is unreachable (restarting, failing over), answer 503 "try again", not 500 "bug".

`server_error` is the site's handler500: Django calls it while the exception is being handled, so it can
tell a lost database connection from a bug. The JSON API answers the same way through its own handler.
"""

from __future__ import annotations

import json
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import server_error as django_server_error

# Seconds a client should wait before trying again; a restart or fail-over takes about this long.
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is unavailable for a moment; try again shortly."


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether `exc` means the database cannot be reached (as opposed to a bad query)."""
    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable_json() -> HttpResponse:
    response = HttpResponse(json.dumps({"detail": DATABASE_UNAVAILABLE}), status=503, content_type="application/json")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if not is_database_outage(sys.exception()):
        return django_server_error(request)
    if request.path.startswith("/api/"):
        return database_unavailable_json()
    response = HttpResponseServerError(loader.get_template("503.html").render())
    response.status_code = 503
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
