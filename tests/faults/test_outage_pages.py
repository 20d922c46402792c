"""A lost database connection is a 503 "try again" page (JSON under /api/), not a 500 "bug" page."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path

from conductor_site.urls import handler500  # noqa: F401 (the site's, for this URLconf)
from conductor_site.urls import urlpatterns as site_urls


def database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


def bug(request):
    raise RuntimeError("boom")


urlpatterns = [path("outage/", database_gone), path("bug/", bug), *site_urls]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def client_seeing_errors(viewer) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(viewer)
    return client


def test_a_page_whose_database_is_gone_is_a_503_with_retry_after(client_seeing_errors) -> None:
    response = client_seeing_errors.get("/outage/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b"Back in a moment" in response.content and b"closed the connection" not in response.content


def test_a_bug_is_still_a_500(client_seeing_errors) -> None:
    response = client_seeing_errors.get("/bug/")
    assert response.status_code == 500 and b"Something went wrong on our side" in response.content
