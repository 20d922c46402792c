"""One user's token or session cannot act on another user's tokens; a revoked token is refused at once;
deleting artifacts needs staff, whoever asks. Named users: owner, stranger, staff."""

from __future__ import annotations

import pytest

from artifacts.models import ArtifactRecord
from conductor_site.models import ApiToken, api_token_issue, api_token_user, token_digest
from tests.api.conftest import artifact_json

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stranger(django_user_model):
    return django_user_model.objects.create_user("stranger", password="stranger-password")


def test_a_user_cannot_revoke_another_users_token(client, owner, stranger) -> None:
    theirs, plain = api_token_issue(user=owner, name="owner's")
    client.force_login(stranger)
    assert client.post(f"/tokens/{theirs.pk}/revoke/").status_code == 404
    assert api_token_user(plain) == owner


def test_a_user_cannot_see_another_users_tokens(client, owner, stranger) -> None:
    theirs, _ = api_token_issue(user=owner, name="owner-secret-name")
    client.force_login(stranger)
    page = client.get("/tokens/").content.decode()
    assert "owner-secret-name" not in page and theirs.hint not in page


def test_revoking_needs_a_post(client, owner) -> None:
    mine, plain = api_token_issue(user=owner, name="mine")
    client.force_login(owner)
    assert client.get(f"/tokens/{mine.pk}/revoke/").status_code == 405
    assert api_token_user(plain) == owner


def test_a_revoked_token_gets_a_401_on_every_route(api_server, owner, owner_token, staff) -> None:
    with api_server.client(owner_token) as api:
        artifact = api.post("/api/artifacts", json=artifact_json()).json()["artifact_id"]
        ApiToken.objects.get(digest=token_digest(owner_token)).revoke()
        for method, path in [
            ("GET", "/api/artifacts"),
            ("GET", f"/api/artifacts/{artifact}"),
            ("GET", f"/api/artifacts/{artifact}/content"),
            ("POST", "/api/artifacts"),
            ("DELETE", f"/api/artifacts/{artifact}"),
            ("GET", "/api/workflows"),
            ("GET", "/api/agents"),
        ]:
            response = api.request(method, path, json=artifact_json() if method == "POST" else None)
            assert response.status_code == 401, (method, path)
    assert ArtifactRecord.objects.count() == 1


def test_a_token_of_a_deactivated_user_gets_a_401(api, owner) -> None:
    owner.is_active = False
    owner.save()
    assert api.get("/api/artifacts").status_code == 401


def test_a_non_staff_token_cannot_delete_an_artifact(api, staff_api) -> None:
    artifact_id = staff_api.post("/api/artifacts", json=artifact_json()).json()["artifact_id"]
    response = api.delete(f"/api/artifacts/{artifact_id}")
    assert response.status_code == 403
    assert ArtifactRecord.objects.filter(pk=artifact_id).exists()


def test_a_non_staff_session_cannot_delete_an_artifact(client, owner) -> None:
    from tests.factories import store_artifact

    record = store_artifact()
    client.force_login(owner)
    assert client.post(f"/artifacts/{record.artifact_id}/delete").status_code == 403
    assert ArtifactRecord.objects.filter(pk=record.artifact_id).exists()


def test_one_users_token_does_not_authenticate_as_another(api_server, owner, stranger, owner_token) -> None:
    api_token_issue(user=stranger, name="stranger's")
    assert api_token_user(owner_token) == owner
    forged = owner_token[:-1] + ("A" if owner_token[-1] != "A" else "B")
    with api_server.client(forged) as api:
        assert api.get("/api/artifacts").status_code == 401
