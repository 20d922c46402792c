"""API tokens: a program's credential for the JSON API, one user's, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "cnd_"


def token_digest(token: str) -> str:
    """SHA-256 of the token: the token is 256 random bits, so a fast hash is enough (no salt, no stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A bearer token for the JSON API. The plain token is shown once, at creation, and never stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “CI agents”.")
    hint = models.CharField(max_length=16, editable=False, help_text="The token's first characters, to tell it apart.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def set_new_token(self) -> str:
        """Give this row a fresh random token and return it in plain text (the only time it exists)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.digest = token_digest(token)
        self.hint = token[: len(TOKEN_PREFIX) + 6]
        return token

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


def api_token_issue(*, user: models.Model, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the plain token to show once."""
    api_token = ApiToken(user=user, name=name)
    plain = api_token.set_new_token()
    api_token.save()
    return api_token, plain


def api_token_user(token: str) -> models.Model | None:
    """The active user an unrevoked token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = token_digest(token)
    api_token = ApiToken.objects.active().select_related("user").filter(digest=digest).first()
    # The lookup is by digest; compare again in constant time so no timing difference leaks through it.
    if api_token is None or not hmac.compare_digest(api_token.digest, digest):
        return None
    now = timezone.now()
    if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
        # At most one write a minute per token, so busy clients do not turn every read into a write.
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return api_token.user
