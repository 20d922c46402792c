"""404, 403 and 500 pages in the site's style."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from conductor_site.urls import urlpatterns as site_urls


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [*site_urls, path("boom/", boom)]

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_a_styled_404(viewer_client) -> None:
    response = viewer_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here" in html and "/static/css/conductor.css" in html and 'aria-label="Main"' in html


@pytest.mark.urls(__name__)
def test_a_server_error_is_a_styled_500(viewer) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(viewer)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"/static/css/conductor.css" in response.content
    assert b"boom" not in response.content


def test_forbidden_is_a_styled_403(viewer_client) -> None:
    from tests.factories import store_artifact

    record = store_artifact()
    response = viewer_client.get(f"/artifacts/{record.artifact_id}/delete")
    assert response.status_code == 403
    assert b"Only staff can delete artifacts." in response.content
