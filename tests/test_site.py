"""The site's shell: login required everywhere, the login page, the admin, the health check."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_pages_redirect_anonymous_users_to_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_the_login_page_is_styled_and_public(client) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Log in to Conductor" in response.content
    assert b"/static/css/conductor.css" in response.content


def test_a_wrong_password_shows_a_form_error(client, django_user_model) -> None:
    django_user_model.objects.create_user("ada", password="right-password")
    response = client.post("/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logging_in_lands_on_home(client, django_user_model) -> None:
    django_user_model.objects.create_user("ada", password="right-password")
    response = client.post("/login/", {"username": "ada", "password": "right-password"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"ada" in response.content


def test_the_admin_needs_staff(client, django_user_model) -> None:
    assert client.get("/admin/").status_code == 302
    admin = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    assert client.get("/admin/artifacts/artifactrecord/").status_code == 200


def test_health_needs_no_login_and_reports_the_database(client) -> None:
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "applied"}


def test_pages_send_a_csp_without_unsafe_inline(client, django_user_model) -> None:
    client.force_login(django_user_model.objects.create_user("ada"))
    csp = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp


def test_ensure_admin_creates_one_admin_once(capsys) -> None:
    call_command("ensure_admin")
    first = capsys.readouterr().out
    assert "password:" in first
    call_command("ensure_admin")
    assert capsys.readouterr().out == ""
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
