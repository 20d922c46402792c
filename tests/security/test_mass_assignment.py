"""Mass assignment: a client cannot set the ids, owners, digests, storage fields or timestamps the
server owns. The API refuses unknown fields (422, nothing stored); forms ignore fields they do not have."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from artifacts.models import ArtifactRecord
from conductor_site.models import ApiToken, api_token_user
from llm.models import ProviderConfig
from tests.api.conftest import artifact_json
from tests.factories import store_artifact

SERVER_OWNED = {
    "sha256": "0" * 64,
    "content_sha256": "0" * 64,
    "content_location": "object_storage",
    "storage_location": "object_storage",
    "object_key": "../../other-tenant/secret",
    "content_encoding": "zstd",
    "content_blob": "AAAA",
    "original_size": 1,
    "stored_size": 1,
    "search": "x",
    "lineage_name": "x",
    "id": 1,
    "pk": "art-x",
    "user": 1,
    "user_id": 1,
    "owner": "admin",
    "updated_at": "2020-01-01T00:00:00Z",
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("field", "value"), SERVER_OWNED.items())
def test_an_artifact_create_refuses_a_server_owned_field(api, field: str, value) -> None:
    response = api.post("/api/artifacts", json={**artifact_json(), field: value})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == field and "Extra inputs" in error["msg"]
    assert ArtifactRecord.all_objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_bulk_create_refuses_server_owned_fields_in_any_item(api) -> None:
    items = [artifact_json(), {**artifact_json(), "object_key": "elsewhere"}]
    response = api.post("/api/artifacts/bulk", json={"artifacts": items, "owner": "admin"})
    assert response.status_code == 422
    locs = {tuple(e["loc"][-2:]) for e in response.json()["detail"]}
    assert (1, "object_key") in locs and ("payload", "owner") in locs
    assert ArtifactRecord.all_objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_client_chosen_id_cannot_overwrite_a_stored_artifact(api) -> None:
    store_artifact(artifact_id="art-taken", content="original", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    response = api.post("/api/artifacts", json=artifact_json(artifact_id="art-taken", content="replaced"))
    assert response.status_code == 409
    record = ArtifactRecord.objects.get(pk="art-taken")
    assert record.content == "original" and record.created_at == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.django_db
def test_the_tokens_page_takes_only_a_name(client, django_user_model) -> None:
    me = django_user_model.objects.create_user("me", password="pw")
    other = django_user_model.objects.create_user("other", password="pw", is_staff=True)
    client.force_login(me)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    response = client.post(
        "/tokens/",
        {
            "name": "ci",
            "user": other.pk,
            "user_id": other.pk,
            "digest": "0" * 64,
            "hint": "cnd_fake",
            "created_at": long_ago.isoformat(),
            "last_used_at": long_ago.isoformat(),
            "revoked_at": long_ago.isoformat(),
        },
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.user == me and token.is_active
    assert token.digest != "0" * 64 and token.hint != "cnd_fake"
    assert token.created_at > datetime.now(UTC) - timedelta(minutes=1) and token.last_used_at is None
    plain = re.search(rb"cnd_[A-Za-z0-9_-]{40,}", response.content).group().decode()
    assert api_token_user(plain) == me


@pytest.mark.django_db
def test_the_token_admin_sets_the_digest_and_hint_itself(admin_client, django_user_model) -> None:
    user = django_user_model.objects.create_user("agent")
    response = admin_client.post(
        reverse("admin:conductor_site_apitoken_add"),
        {"user": user.pk, "name": "ci", "digest": "0" * 64, "hint": "cnd_fake", "created_at": "2000-01-01"},
    )
    assert response.status_code == 302
    token = ApiToken.objects.get(user=user)
    assert token.digest != "0" * 64 and token.hint.startswith("cnd_") and token.hint != "cnd_fake"
    assert token.created_at.year > 2000


@pytest.mark.django_db
def test_the_provider_admin_never_takes_an_encrypted_key_or_hint(admin_client) -> None:
    response = admin_client.post(
        reverse("admin:llm_providerconfig_add"),
        {
            "name": "planted",
            "provider": "mock",
            "model": "m",
            "base_url": "",
            "enabled": "on",
            "api_key_env": "",
            "temperature": "0.5",
            "max_tokens": "100",
            "timeout_seconds": "30",
            "max_retries": "2",
            "cache_ttl_seconds": "3600",
            "rate_limit_max_wait_seconds": "30",
            "api_key_encrypted": "gAAAAA-planted",
            "api_key_hint": "sk-…fake",
            "created_at": "2000-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 302
    config = ProviderConfig.objects.get(name="planted")
    assert config.api_key_encrypted == "" and config.api_key_hint == ""
    assert config.created_at.year > 2000
