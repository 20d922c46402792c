"""The API tokens page: a user creates and revokes their own tokens (staff manage everyone's in the admin)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from conductor_site.models import ApiToken, api_token_issue


@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    new_token: str | None = None
    error: str | None = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name or len(name) > 100:
            error = "Give the token a name of 1 to 100 characters, saying what it is for."
        else:
            _, new_token = api_token_issue(user=request.user, name=name)
    context = {
        "api_tokens": ApiToken.objects.filter(user=request.user),
        "new_token": new_token,
        "error": error,
    }
    response = render(request, "conductor_site/tokens.html", context, status=400 if error else 200)
    if new_token:
        response["Cache-Control"] = "no-store"  # the page holds a secret
    return response


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    api_token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    api_token.revoke()
    messages.success(request, f"Revoked “{api_token.name}”; programs using it now get 401.")
    return redirect("tokens")
