"""In production (DEBUG=0) the session and CSRF cookies are Secure, SameSite, and the session cookie
HttpOnly: read from the settings module in a fresh process with the documented production environment,
then checked on the Set-Cookie headers a real login sends with those values."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.core.cache import cache

from tests.test_deploy_settings import ROOT, production_env

COOKIE_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
]
PRINT_SETTINGS = (
    "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'conductor_site.settings'; "
    "from django.conf import settings; "
    f"print(json.dumps({{name: getattr(settings, name) for name in {COOKIE_SETTINGS!r}}}))"
)


@pytest.fixture(scope="module")
def production_settings() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure(production_settings) -> None:
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["CSRF_COOKIE_SECURE"] is True
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["SESSION_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert production_settings["CSRF_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31536000


@pytest.mark.django_db
def test_a_login_sends_cookies_with_the_production_flags(client, django_user_model, settings, production_settings):
    cache.clear()
    for name, value in production_settings.items():
        setattr(settings, name, value)
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks HTTPS through `secure=True` instead
    django_user_model.objects.create_user("alice", password="correct-horse")
    client.get("/login/", secure=True)
    response = client.post("/login/", {"username": "alice", "password": "correct-horse"}, secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] in {"Lax", "Strict"}
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] in {"Lax", "Strict"}
