"""Failed logins are rate-limited, per username and per client address, on the site and in the admin.

After CONDUCTOR_LOGIN_MAX_FAILURES failed attempts within CONDUCTOR_LOGIN_WINDOW_MINUTES, for one
username (from anywhere) or from one address (for any username), the login form refuses further
attempts — without checking the password — until the window ends, and says how long that is.

The counts live in Django's cache: the database cache by default, Redis when REDIS_URL is set, so
every web process shares them. Behind a proxy the client address is REMOTE_ADDR as the ASGI server
reports it: run uvicorn with --proxy-headers and --forwarded-allow-ips set to the proxy's address,
or every client shares the proxy's count.

A count is read and written without a lock, so a burst of parallel attempts can get a few more tries
than the limit before the lock holds; the limit still caps a sustained attack.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest

_KEY_PREFIX = "conductor:login-failures:"


def _keys(*, username: str, address: str) -> list[str]:
    keys = []
    if username:
        keys.append(_KEY_PREFIX + "user:" + hashlib.sha256(username.casefold().encode()).hexdigest())
    if address:
        keys.append(_KEY_PREFIX + "addr:" + hashlib.sha256(address.encode()).hexdigest())
    return keys


def _window_seconds() -> int:
    return settings.CONDUCTOR_LOGIN_WINDOW_MINUTES * 60


def login_locked_for(*, username: str, address: str) -> float | None:
    """Seconds until this username and address may try again, or None when they may now."""
    now = time.time()
    waits = []
    for key in _keys(username=username, address=address):
        count, started = cache.get(key, (0, now))
        if count >= settings.CONDUCTOR_LOGIN_MAX_FAILURES and (ends := started + _window_seconds()) > now:
            waits.append(ends - now)
    return max(waits) if waits else None


def login_failure_record(*, username: str, address: str) -> None:
    """Count one failed attempt for the username and for the address (a window starts at the first)."""
    now = time.time()
    for key in _keys(username=username, address=address):
        count, started = cache.get(key, (0, now))
        if started + _window_seconds() <= now:
            count, started = 0, now
        cache.set(key, (count + 1, started), timeout=math.ceil(started + _window_seconds() - now))


def login_failures_clear(*, username: str) -> None:
    """Forget a username's failures after it logs in (the address keeps its count: one good account
    must not reset the count of an address that is guessing others)."""
    cache.delete_many(_keys(username=username, address=""))


def client_address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


class _ThrottledLogin:
    """Refuses attempts over the limit before the password is checked, and counts failed ones."""

    request: HttpRequest | None
    data: Any
    error_messages: dict[str, str]

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username") or "")[:150]
        address = client_address(self.request)
        self._refuse_if_locked(username, address)
        try:
            cleaned = super().clean()  # type: ignore[misc]
        except forms.ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                login_failure_record(username=username, address=address)
                self._refuse_if_locked(username, address)
            raise
        login_failures_clear(username=username)
        return cleaned

    def _refuse_if_locked(self, username: str, address: str) -> None:
        if (wait := login_locked_for(username=username, address=address)) is not None:
            minutes = max(1, math.ceil(wait / 60))
            raise forms.ValidationError(
                "Too many failed attempts, try again in %(minutes)s minute%(plural)s.",
                code="throttled",
                params={"minutes": minutes, "plural": "" if minutes == 1 else "s"},
            )


class ThrottledAuthenticationForm(_ThrottledLogin, AuthenticationForm):
    """The site's login form."""


class ThrottledAdminAuthenticationForm(_ThrottledLogin, AdminAuthenticationForm):
    """The admin's login form."""
