"""Who may call the API: bearer tokens, browser sessions with CSRF, staff-only routes, health without auth."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conductor_site.models import ApiToken, api_token_issue, token_digest
from tests.api.conftest import artifact_json

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_needs_no_auth(api_server) -> None:
    with api_server.client() as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "applied"}


@pytest.mark.parametrize("path", ["/api/artifacts", "/api/artifacts/types", "/api/artifacts/art-x"])
def test_every_other_route_needs_auth(api_server, path: str) -> None:
    with api_server.client() as client:
        response = client.get(path)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer cnd_wrong", "Bearer", "Basic b3duZXI6cHc=", "cnd_no_scheme"])
def test_a_wrong_or_malformed_token_is_a_401(api_server, owner_token, header: str) -> None:
    with api_server.client(headers={"Authorization": header}) as client:
        assert client.get("/api/artifacts").status_code == 401


def test_a_valid_token_authenticates_and_records_its_use(api, owner_token) -> None:
    assert api.get("/api/artifacts").status_code == 200
    token = ApiToken.objects.get(digest=token_digest(owner_token))
    assert token.last_used_at is not None


def test_a_revoked_token_is_refused(api, owner_token) -> None:
    ApiToken.objects.get(digest=token_digest(owner_token)).revoke()
    assert api.get("/api/artifacts").status_code == 401


def test_an_inactive_users_token_is_refused(api, owner) -> None:
    owner.is_active = False
    owner.save()
    assert api.get("/api/artifacts").status_code == 401


def test_tokens_are_stored_hashed(owner) -> None:
    api_token, plain = api_token_issue(user=owner, name="ci")
    assert plain.startswith("cnd_") and len(plain) > 40
    assert plain not in api_token.digest and api_token.digest == token_digest(plain)
    assert api_token.hint == plain[:10]


def test_a_session_can_read_and_must_send_csrf_to_write(api_server, owner) -> None:
    with api_server.client() as browser:
        browser.get("/login/")
        csrf = browser.cookies["csrftoken"]
        login = browser.post(
            "/login/", data={"username": "owner", "password": "owner-password", "csrfmiddlewaretoken": csrf}
        )
        assert login.status_code == 302
        assert browser.get("/api/artifacts").status_code == 200

        refused = browser.post("/api/artifacts", json=artifact_json())
        assert refused.status_code == 403
        assert "X-CSRFToken" in refused.json()["detail"]

        csrf = browser.cookies["csrftoken"]
        created = browser.post("/api/artifacts", json=artifact_json(), headers={"X-CSRFToken": csrf})
        assert created.status_code == 201


def test_delete_is_staff_only(api, staff_api) -> None:
    artifact_id = api.post("/api/artifacts", json=artifact_json()).json()["artifact_id"]
    refused = api.delete(f"/api/artifacts/{artifact_id}")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Deleting artifacts needs a staff account."}
    assert staff_api.delete(f"/api/artifacts/{artifact_id}").status_code == 204
    assert staff_api.get(f"/api/artifacts/{artifact_id}").status_code == 404


def test_last_use_is_written_at_most_once_a_minute(api, owner_token) -> None:
    token = ApiToken.objects.get(digest=token_digest(owner_token))
    long_ago = timezone.now() - timezone.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    api.get("/api/artifacts")
    token.refresh_from_db()
    assert token.last_used_at == long_ago
