"""SQL and ORM-keyword injection through the Authorization header and every filter: a 401, a 4xx, an
empty result or an ignored parameter, never a 500 and never more rows than the filter allows."""

from __future__ import annotations

import httpx
import pytest

from artifacts.models import ArtifactRecord
from conductor_site.models import ApiToken
from tests.factories import make_llm_call, store_artifact

PAYLOADS = [
    "' OR 1=1 --",
    "' OR '1'='1' --",
    "'; DROP TABLE artifacts_artifact; --",
    '" OR ""="',
    "1) OR (1=1",
    "\x00",
    "wf\x00' OR 1=1 --",
    "%",
    "_",
    "\\",
    "x" * 20_000,
    "$$ OR 1=1 $$",
    "') UNION SELECT digest FROM conductor_site_apitoken --",
]


@pytest.fixture
def three_artifacts(db) -> None:
    for word in ("alpha", "bravo", "charlie"):  # no word a payload's search terms could match
        store_artifact(workflow_id="wf-1", task_id=f"task-{word}", agent_id="coder", content=f"secret {word}")


def assert_nothing_leaked() -> None:
    assert ArtifactRecord.objects.count() == 3


# The Authorization header


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "header",
    [
        "Bearer ' OR 1=1 --",
        "Bearer cnd_' OR '1'='1' --",
        "Bearer cnd_') OR digest LIKE '%",
        "' OR 1=1 --",
        "Bearer cnd_\\x00",
        "Bearer cnd_" + "A" * 4_000,
        "Bearer " + "%" * 100,
        "Bearer cnd_*",
    ],
)
def test_an_injected_authorization_header_is_a_401(api_server, owner_token, header: str) -> None:
    with api_server.client(headers={"Authorization": header}) as client:
        response = client.get("/api/artifacts")
    assert response.status_code == 401
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["cnd_\x00", "cnd_abc\x00' OR 1=1 --", "cnd_" + "é" * 50, "cnd_" + "x" * 1_000_000])
def test_header_values_no_http_server_would_pass_are_a_401_too(client, token: str) -> None:
    response = client.get("/api/artifacts", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_an_enormous_header_is_refused_by_the_server(api_server) -> None:
    with api_server.client(headers={"Authorization": "Bearer cnd_" + "A" * 200_000}) as client:
        try:
            status = client.get("/api/artifacts").status_code
        except httpx.TransportError:  # uvicorn may close the connection instead of answering
            status = 431
    assert 400 <= status < 500


# API filters


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "param", ["workflow_id", "task_id", "agent_id", "artifact_type", "q", "since", "until", "cursor", "order", "limit"]
)
def test_artifact_list_filters_match_nothing_or_are_refused(api, three_artifacts, param: str) -> None:
    for payload in PAYLOADS:
        response = api.get("/api/artifacts", params={param: payload})
        assert response.status_code in {200, 422}, (payload[:40], response.text[:300])
        if response.status_code == 200:
            assert response.json()["items"] == [], payload[:40]
    assert_nothing_leaked()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "param"), [("/api/workflows", "q"), ("/api/workflows", "agent_id"), ("/api/agents", "cursor")]
)
def test_summary_list_filters_match_nothing_or_are_refused(api, three_artifacts, path: str, param: str) -> None:
    for payload in PAYLOADS:
        response = api.get(path, params={param: payload})
        assert response.status_code in {200, 422}, (payload[:40], response.text[:300])
        if response.status_code == 200:
            assert response.json()["items"] == [], payload[:40]
    assert_nothing_leaked()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prefix", ["/api/artifacts/", "/api/workflows/", "/api/agents/"])
def test_injected_path_ids_are_a_404(api, three_artifacts, prefix: str) -> None:
    for payload in ["' OR 1=1 --", "%00", "wf-1%00", "wf-1' --", "x" * 5_000]:
        response = api.get(prefix + payload)
        assert response.status_code in {404, 422}, (payload[:40], response.text[:300])
    assert_nothing_leaked()


# Dashboard filters


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/artifacts/", ("q", "workflow", "task", "agent", "type", "since", "until", "cursor")),
        ("/workflows/", ("q", "cursor")),
        ("/agents/", ("cursor",)),
        ("/", ("period",)),
        ("/usage/", ("period", "agent", "workflow", "provider", "model")),
        ("/usage/calls/", ("status", "agent", "workflow", "task", "provider", "model", "since", "until", "cursor")),
    ],
)
def test_dashboard_filters_match_nothing_or_show_a_form_error(viewer_client, three_artifacts, path, params) -> None:
    make_llm_call(workflow_id="wf-1", agent_id="coder")
    for param in params:
        for payload in PAYLOADS:
            response = viewer_client.get(path, {param: payload})
            assert response.status_code in {200, 302, 400}, (param, payload[:40])
            if response.status_code != 200 or path not in {"/artifacts/", "/usage/calls/"}:
                continue
            rows = response.context["artifacts" if path == "/artifacts/" else "calls"]
            # A value the form refuses is dropped with an error shown; one it takes matches nothing.
            assert list(rows) == [] or param in response.context["form"].errors, (param, payload[:40])
    assert_nothing_leaked()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/workflows/%00/",
        "/workflows/wf-1%00/",
        "/agents/%00/",
        "/tasks/%00/",
        "/artifacts/%00/",
        "/artifacts/%00/raw",
        "/runs/%00/progress",
        "/workflows/' OR 1=1 --/",
        "/usage/calls/99999999999999999999999999/",
        "/tokens/99999999999999999999999999/revoke/",
    ],
)
def test_injected_dashboard_path_ids_are_a_404(staff_client, three_artifacts, path: str) -> None:
    method = staff_client.post if "revoke" in path else staff_client.get
    assert method(path).status_code == 404
    assert_nothing_leaked()


# ORM keyword injection: filters and ordering come from an allow-list, never from the request's names.


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "params",
    [
        {"workflow_id__startswith": "nothing"},
        {"content__icontains": "nothing"},
        {"metadata__has_key": "nothing"},
        {"ordering": "password"},
        {"order_by": "-content"},
        {"workflow_id__regex": ".*"},
        {"pk__in": "1,2"},
    ],
)
def test_api_lookup_and_ordering_params_outside_the_allow_list_are_ignored(api, three_artifacts, params) -> None:
    unfiltered = api.get("/api/artifacts").json()["items"]
    response = api.get("/api/artifacts", params=params)
    assert response.status_code == 200
    assert response.json()["items"] == unfiltered


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order", ["-content", "content", "password", "?", "created_at", "-created_at"])
def test_api_ordering_is_one_of_two_words(api, three_artifacts, order: str) -> None:
    response = api.get("/api/artifacts", params={"order": order})
    assert response.status_code == 422
    assert "newest" in response.text and "oldest" in response.text


@pytest.mark.django_db
def test_dashboard_lookup_params_outside_the_form_are_ignored(viewer_client, three_artifacts) -> None:
    unfiltered = viewer_client.get("/artifacts/").context["artifacts"]
    for params in ({"workflow__startswith": "x"}, {"content__icontains": "x"}, {"o": "-content"}, {"order": "x"}):
        assert viewer_client.get("/artifacts/", params).context["artifacts"] == unfiltered


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "user__password__startswith=md5",
        "user__is_superuser=1&user__password__regex=.*",
    ],
)
def test_the_admin_refuses_lookups_through_secrets(admin_client, query: str) -> None:
    response = admin_client.get(f"/admin/conductor_site/apitoken/?{query}")
    assert response.status_code in {400, 302}
    if response.status_code == 302:
        assert "e=1" in response["Location"]  # the admin's "invalid lookup" redirect
