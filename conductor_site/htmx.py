"""How the dashboard answers htmx: the typed request, and whole page or partial."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def render_page(
    request: HtmxHttpRequest, template_name: str, context: dict[str, Any], *, partial: str | None = None
) -> HttpResponse:
    """The whole page, or only `partial` for an htmx request (but the whole page to restore history)."""
    if partial and request.htmx and not request.htmx.history_restore_request:
        template_name += f"#{partial}"
    response = render(request, template_name, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
