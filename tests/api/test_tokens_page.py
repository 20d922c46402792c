"""The /tokens/ page and the admin: create a token (shown once), list, revoke."""

from __future__ import annotations

import re

import pytest

from conductor_site.models import ApiToken, api_token_issue, api_token_user, token_digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw")


def test_it_needs_login(client) -> None:
    assert client.get("/tokens/").status_code == 302


def test_it_creates_a_token_and_shows_it_once(client, owner) -> None:
    client.force_login(owner)
    response = client.post("/tokens/", {"name": "CI agents"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    plain = re.search(rb"cnd_[A-Za-z0-9_-]{40,}", response.content).group().decode()
    assert api_token_user(plain) == owner
    later = client.get("/tokens/")
    assert plain.encode() not in later.content
    assert b"CI agents" in later.content and plain[:10].encode() in later.content


def test_a_nameless_token_is_refused(client, owner) -> None:
    client.force_login(owner)
    response = client.post("/tokens/", {"name": "  "})
    assert response.status_code == 400
    assert b"Give the token a name" in response.content
    assert not ApiToken.objects.exists()


def test_it_lists_only_the_users_own_tokens(client, owner, django_user_model) -> None:
    other = django_user_model.objects.create_user("other")
    api_token_issue(user=other, name="not yours")
    client.force_login(owner)
    assert b"not yours" not in client.get("/tokens/").content


def test_it_revokes_a_token(client, owner) -> None:
    api_token, plain = api_token_issue(user=owner, name="old")
    client.force_login(owner)
    response = client.post(f"/tokens/{api_token.pk}/revoke/", follow=True)
    assert b"Revoked" in response.content
    assert api_token_user(plain) is None


def test_nobody_revokes_another_users_token(client, owner, django_user_model) -> None:
    api_token, plain = api_token_issue(user=django_user_model.objects.create_user("other"), name="theirs")
    client.force_login(owner)
    assert client.post(f"/tokens/{api_token.pk}/revoke/").status_code == 404
    assert api_token_user(plain) is not None


def test_the_admin_creates_a_token_and_shows_it_once(admin_client, owner) -> None:
    response = admin_client.post(
        "/admin/conductor_site/apitoken/add/", {"user": owner.pk, "name": "from admin"}, follow=True
    )
    plain = re.search(rb"cnd_[A-Za-z0-9_-]{40,}", response.content).group().decode()
    api_token = ApiToken.objects.get(name="from admin")
    assert api_token.digest == token_digest(plain) and api_token.user == owner
    change = admin_client.get(f"/admin/conductor_site/apitoken/{api_token.pk}/change/")
    assert plain.encode() not in change.content


def test_the_admin_revokes_tokens(admin_client, owner) -> None:
    api_token, plain = api_token_issue(user=owner, name="old")
    admin_client.post("/admin/conductor_site/apitoken/", {"action": "revoke", "_selected_action": [api_token.pk]})
    assert api_token_user(plain) is None
