"""A size limit on JSON API request bodies, answered with a JSON 413 before anything parses them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"


class ApiBodyLimitMiddleware:
    """413 for an /api/ request whose body is over CONDUCTOR_API_MAX_BODY_BYTES."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        return self._too_large(request) or self.get_response(request)  # type: ignore[return-value]

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._too_large(request) or await self.get_response(request)  # type: ignore[misc]

    def _too_large(self, request: HttpRequest) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        limit: int = settings.CONDUCTOR_API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _json_error(400, "The Content-Length header is not a whole number.")
        if length == 0 and "HTTP_TRANSFER_ENCODING" in request.META:
            length = len(request.body)  # chunked: the server has already received it; measure it
        if length <= limit:
            return None
        return _json_error(
            413,
            f"The request body is {length:,} bytes, over the limit of {limit:,} bytes; "
            "send fewer or smaller artifacts per request.",
        )


def _json_error(status: int, detail: str) -> HttpResponse:
    return HttpResponse(json.dumps({"detail": detail}), status=status, content_type="application/json")
