"""The JSON API at /api/: one NinjaAPI, its two ways to authenticate, and errors that are always JSON.

Routers live with their apps (`artifacts/api.py`, `llm/api.py`) and stay thin: parse, call the same
store and query functions the pages use, render.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from artifacts.store import ArtifactExistsError, ArtifactsExistError, InvalidArtifactError
from artifacts.store.artifact import MAX_METADATA_DEPTH
from conductor_site.health import health_status
from conductor_site.models import api_token_user
from conductor_site.outage import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from llm.usage import InvalidUsageQuery

logger = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class TokenAuth(HttpBearer):
    """`Authorization: Bearer cnd_…` with a token from /tokens/ or the admin."""

    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser | None:
        user = api_token_user(token.strip())
        if user is not None:
            request.user = user  # so code that reads request.user sees the token's owner
        return user


class SessionAuth(APIKeyCookie):
    """The browser's Django session; writes need the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # CSRF is checked below, and only for a logged-in session, so a token client without
        # cookies gets a 401 that says how to authenticate rather than a CSRF failure.
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> AbstractBaseUser | None:
        user = getattr(request, "user", AnonymousUser())
        if not user.is_authenticated:
            return None
        if request.method in UNSAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(
                403,
                "CSRF check failed: a session-authenticated write must send the csrftoken cookie's value "
                "in the X-CSRFToken header (or use an API token instead).",
            )
        return user


class BodyTooDeepError(ValueError):
    """A JSON body nested deeper than the parser's stack allows."""


class StrictJSONParser(Parser):
    """Request bodies are UTF-8 JSON, decoded strictly.

    `json.loads(bytes)` would also accept UTF-16 and UTF-32 and let UTF-8-encoded surrogates through;
    and a body nested thousands of levels deep ends in a RecursionError, which becomes a 400 here.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        text = request.body.decode("utf-8")
        try:
            return json.loads(text)
        except RecursionError:
            raise BodyTooDeepError(
                "The request body nests too deeply to parse; artifact metadata may nest at most "
                f"{MAX_METADATA_DEPTH} levels of objects and lists."
            ) from None


class ApiJSONEncoder(NinjaJSONEncoder):
    """Timestamps with their full microseconds (Django's encoder cuts them to milliseconds); decimals as
    plain strings ("0.25", never "0E-10" or "2.500000")."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat().replace("+00:00", "Z")
        if isinstance(o, Decimal) and o.is_finite():
            return format(o.normalize(), "f")
        return super().default(o)


class ApiRenderer(JSONRenderer):
    encoder_class = ApiJSONEncoder


api = NinjaAPI(
    title="Conductor API",
    version="1",
    description=(
        "Artifacts, workflows, agents and LLM usage. Authenticate with `Authorization: Bearer <token>` "
        "(create a token at /tokens/) or a logged-in browser session. Errors are JSON: "
        '`{"detail": "what was wrong and what is allowed"}`.'
    ),
    urls_namespace="api",
    renderer=ApiRenderer(),
    parser=StrictJSONParser(),
    auth=[TokenAuth(), SessionAuth()],
)


class ErrorOut(Schema):
    """Every error: a message, or for invalid fields a list of {loc, msg, type}."""

    detail: str | list[dict[str, Any]]


class ConflictOut(Schema):
    detail: str
    artifact_ids: list[str]


def error_responses(*codes: int) -> dict[int, type[Schema]]:
    """The error statuses an operation documents (401 and 422 are on every authenticated one)."""
    return {code: ConflictOut if code == 409 else ErrorOut for code in sorted({400, 401, 413, 422, *codes})}


def _error(request: HttpRequest, status: int, detail: Any, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request,
        401,
        "Authentication required: send `Authorization: Bearer <token>` with an active API token "
        "(create one at /tokens/), or log in for a browser session.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="conductor"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, BodyTooDeepError):
        return _error(request, 400, str(exc.__cause__))
    if isinstance(exc.__cause__, ValueError | UnicodeDecodeError):  # the body did not parse
        cause = exc.__cause__
        where = (
            f" ({cause.msg} at line {cause.lineno}, column {cause.colno})"
            if isinstance(cause, json.JSONDecodeError)
            else ""
        )
        return _error(request, 400, f"The request body is not valid UTF-8 JSON{where}; send a JSON object.")
    return _error(request, exc.status_code, str(exc.message))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, [_plain_error(error) for error in exc.errors])


def _plain_error(error: dict[str, Any]) -> dict[str, Any]:
    # pydantic's ctx may hold exception objects; keep what a client can use.
    return {"loc": list(error.get("loc", [])), "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}


@api.exception_handler(InvalidArtifactError)
def _invalid_artifact(request: HttpRequest, exc: InvalidArtifactError) -> HttpResponse:
    return _error(request, 422, str(exc))


@api.exception_handler(InvalidUsageQuery)
def _invalid_usage_query(request: HttpRequest, exc: InvalidUsageQuery) -> HttpResponse:
    return _error(request, 422, str(exc))


@api.exception_handler(ArtifactExistsError)
def _exists(request: HttpRequest, exc: ArtifactExistsError) -> HttpResponse:
    ids = exc.artifact_ids if isinstance(exc, ArtifactsExistError) else [exc.artifact_id]
    return _error(request, 409, str(exc), artifact_ids=ids)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, body_too_large_message())


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, str(exc) or "Not found.")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The database is restarting or unreachable: nothing was stored, and the client may try again.
    logger.warning("Database unavailable in %s %s: %s", request.method, request.path, exc)
    response = _error(request, 503, DATABASE_UNAVAILABLE)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return _error(request, 500, "Internal error; it has been logged.")


def body_too_large_message() -> str:
    limit = settings.CONDUCTOR_API_MAX_BODY_BYTES
    return f"The request body is larger than the limit of {limit:,} bytes; send fewer or smaller artifacts per request."


class HealthOut(Schema):
    status: str
    database: str
    migrations: str


@api.get("/health", auth=None, response={200: HealthOut, 503: HealthOut}, tags=["health"])
def health(request: HttpRequest) -> Status[dict[str, str]]:
    """Whether the database answers and every migration is applied. Needs no authentication."""
    ok, checks = health_status()
    return Status(200 if ok else 503, {"status": "ok" if ok else "error", **checks})


# Registered when the URLs are built, not at import, so a router module can import this one first.
ROUTERS = (
    ("/artifacts", "artifacts.api.router"),
    ("/workflows", "artifacts.api.workflows_router"),
    ("/agents", "artifacts.api.agents_router"),
    ("/llm", "llm.api.router"),
    ("/usage", "llm.api.usage_router"),
)


def _login_not_required(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    # The API answers 401 itself; LoginRequiredMiddleware must not redirect API clients to a login page.
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _login_not_required(pattern.url_patterns)
        else:
            pattern.callback.login_required = False
    return patterns


def api_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    for prefix, router in ROUTERS:
        api.add_router(prefix, router)
    patterns, app_name, namespace = api.urls
    return _login_not_required(list(patterns)), app_name, namespace


@csrf_exempt  # a POST to an unknown API path is a JSON 404, not the CSRF middleware's HTML 403
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/: a JSON 404 rather than the site's HTML page."""
    response = HttpResponse(
        json.dumps({"detail": f"No API endpoint at {request.path}; see /api/docs for the endpoints."}),
        status=404,
        content_type="application/json",
    )
    return response


api_not_found.login_required = False  # type: ignore[attr-defined]
