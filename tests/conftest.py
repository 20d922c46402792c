"""Shared test set-up: fast settings, and services that may be missing on a fresh machine.

Tests that need a service a fresh machine lacks skip with a reason, unless
CONDUCTOR_REQUIRE_SERVICES=1 (set by .ci/run), where a missing service fails the test instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections
from django.test.utils import override_settings

REQUIRE_SERVICES = os.environ.get("CONDUCTOR_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip the calling test because a service is missing, or fail it when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONDUCTOR_REQUIRE_SERVICES=1, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _fast_test_settings() -> Iterator[None]:
    """Fast password hashing, plain static files, and tasks run at once (a test may override TASKS to
    use the database backend and its worker)."""
    override = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}},
    )
    override.enable()
    yield
    override.disable()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the connection pool closed before it is dropped."""
    yield
    with django_db_blocker.unblock():
        # Async tests use connections in asgiref's shared thread; hand them back before the drop.
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
        for conn in connections.all():
            conn.close_pool()


@pytest.fixture
def asgi_live_server(transactional_db, settings) -> Iterator[object]:
    """The project served by uvicorn (ASGI) on a free port, against the test database: streams stream."""
    from tests.asgi_server import AsgiServer

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    with AsgiServer() as server:
        yield server


@pytest.fixture
def viewer(django_user_model):
    """A signed-in operator without staff rights."""
    return django_user_model.objects.create_user("viewer", password="viewer-password")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staffer", password="staff-password", is_staff=True)


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
