"""Failed logins are rate-limited per username and per client address, on the site and in the admin."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="correct-horse", is_staff=True)


def log_in(client, username: str, password: str, *, url: str = "/login/", address: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_few_failures_do_not_lock_anyone_out(client, alice) -> None:
    for _ in range(LIMIT - 1):
        response = log_in(client, "alice", "wrong")
        assert "Please enter a correct username and password" in response.content.decode()
    assert log_in(client, "alice", "correct-horse").status_code == 302
    assert logged_in(client)


def test_the_limit_locks_the_username_and_says_for_how_long(client, alice) -> None:
    for _ in range(LIMIT - 1):
        log_in(client, "alice", "wrong")
    fifth = log_in(client, "alice", "wrong").content.decode()
    assert "Too many failed attempts, try again in 15 minutes." in fifth
    refused = log_in(client, "alice", "correct-horse", address="10.9.9.9")  # the right password, elsewhere
    assert refused.status_code == 200
    assert "Too many failed attempts, try again in 15 minutes." in refused.content.decode()
    assert not logged_in(client)


def test_the_username_lock_ignores_case(client, alice) -> None:
    for n in range(LIMIT):
        log_in(client, "ALICE" if n % 2 else "alice", "wrong", address=f"10.0.1.{n}")
    assert "Too many failed attempts" in log_in(client, "Alice", "correct-horse", address="10.0.2.1").content.decode()


def test_the_limit_locks_an_address_guessing_many_usernames(client, alice) -> None:
    for n in range(LIMIT):
        log_in(client, f"user{n}", "wrong", address="10.6.6.6")
    response = log_in(client, "alice", "correct-horse", address="10.6.6.6")
    assert "Too many failed attempts" in response.content.decode()
    assert not logged_in(client)
    assert log_in(client, "alice", "correct-horse", address="10.7.7.7").status_code == 302


def test_the_lock_ends_with_the_window(client, alice, settings) -> None:
    for _ in range(LIMIT):
        log_in(client, "alice", "wrong")
    settings.CONDUCTOR_LOGIN_WINDOW_MINUTES = 0  # the window that started the count is over
    assert log_in(client, "alice", "correct-horse").status_code == 302


def test_the_wait_counts_down_in_whole_minutes(client, alice, settings) -> None:
    settings.CONDUCTOR_LOGIN_MAX_FAILURES = 2
    settings.CONDUCTOR_LOGIN_WINDOW_MINUTES = 1
    log_in(client, "alice", "wrong")
    assert "try again in 1 minute." in log_in(client, "alice", "wrong").content.decode()


def test_a_success_clears_the_usernames_count(client, alice) -> None:
    for _ in range(LIMIT - 1):
        log_in(client, "alice", "wrong", address=f"10.1.0.{_}")
    assert log_in(client, "alice", "correct-horse", address="10.2.0.1").status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        log_in(client, "alice", "wrong", address=f"10.3.0.{_}")
    assert log_in(client, "alice", "correct-horse", address="10.4.0.1").status_code == 302


def test_the_admin_login_is_throttled_too(client, alice) -> None:
    for _ in range(LIMIT):
        log_in(client, "alice", "wrong", url="/admin/login/")
    response = log_in(client, "alice", "correct-horse", url="/admin/login/")
    assert response.status_code == 200
    assert "Too many failed attempts, try again in 15 minutes." in response.content.decode()
    assert not logged_in(client)


def test_the_site_and_the_admin_share_one_count(client, alice) -> None:
    for n in range(LIMIT):
        log_in(client, "alice", "wrong", url="/admin/login/" if n % 2 else "/login/")
    assert "Too many failed attempts" in log_in(client, "alice", "correct-horse").content.decode()


def test_a_successful_login_gets_a_new_session_key(client, alice) -> None:
    client.get("/login/")
    client.session.save()
    before = client.session.session_key
    log_in(client, "alice", "correct-horse")
    assert client.session.session_key != before
