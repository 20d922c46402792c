"""Who may use the LLM endpoints, and that no response of any of them carries a stored key."""

from __future__ import annotations

import pytest

from llm.models import LLMCall, ProviderConfig
from tests.asgi_server import CSRF_TOKEN, signed_in_cookies
from tests.factories import make_provider_config
from tests.llm.vendor_servers import FakeOpenAIServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

PASTED_KEY = "sk-pasted-secret-0123456789abcdef"
ENV_KEY = "sk-from-the-environment-fedcba9876543210"
KEY_VARIABLE = "CONDUCTOR_TEST_SECRET_KEY_VARIABLE"

READS = [
    "/api/llm/providers",
    "/api/llm/calls",
    "/api/llm/calls/1",
    "/api/usage",
    "/api/usage/grouped?group_by=agent",
    "/api/usage/series",
]
WRITES = ["/api/llm/generate", "/api/llm/generate/stream"]


@pytest.mark.parametrize("path", READS)
def test_every_read_needs_auth(api_server, path: str) -> None:
    with api_server.client() as client:
        response = client.get(path)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize("path", WRITES)
def test_generating_needs_auth_and_nothing_is_called(api_server, path: str) -> None:
    with api_server.client(headers={"Authorization": "Bearer cnd_wrong"}) as client:
        response = client.post(path, json={"config": "mock", "prompt": "hi"})
    assert response.status_code == 401
    assert not LLMCall.objects.exists()


@pytest.mark.parametrize("path", WRITES)
def test_a_session_must_send_csrf_to_generate(api_server, viewer, path: str) -> None:
    ProviderConfig.objects.get_or_create(name="mock", defaults={"provider": "mock", "model": "mock-model"})
    with api_server.client() as browser:
        browser.cookies.update(signed_in_cookies(viewer))
        refused = browser.post(path, json={"config": "mock", "prompt": "hi"})
        assert refused.status_code == 403 and "X-CSRFToken" in refused.json()["detail"]
        allowed = browser.post(path, json={"config": "mock", "prompt": "hi"}, headers={"X-CSRFToken": CSRF_TOKEN})
        assert allowed.status_code == 200
    assert LLMCall.objects.count() == 1


def test_no_llm_response_contains_a_stored_key(api, monkeypatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, ENV_KEY)
    bodies: list[str] = []
    with FakeOpenAIServer(api_key=PASTED_KEY) as server:
        base_url = server.base_url
        pasted = make_provider_config(
            name="pasted", provider="openai", model="gpt-4o", base_url=server.base_url, max_retries=0
        )
        pasted.set_api_key(PASTED_KEY)
        pasted.save()
        make_provider_config(  # the server refuses this key: a 401 the API turns into a 502
            name="from-env",
            provider="openai",
            model="gpt-4o",
            base_url=server.base_url,
            max_retries=0,
            api_key_env=KEY_VARIABLE,
        )
        # A vendor error that echoes the key back, as some servers do.
        echo = Reply.error(400, f"Invalid request with key {PASTED_KEY}")
        server.queue(Reply(), echo, Reply(), echo)

        def post(path: str, config: str) -> None:
            response = api.post(path, json={"config": config, "prompt": "Say hi", "agent_id": "coder"})
            bodies.append(response.text)

        for path in WRITES:
            post(path, "pasted")  # ok
            post(path, "pasted")  # the echoing error
            post(path, "from-env")  # refused key

    providers = api.get("/api/llm/providers").text
    bodies.append(providers)
    assert pasted.api_key_hint not in providers and KEY_VARIABLE not in providers and base_url not in providers
    calls = api.get("/api/llm/calls", params={"limit": 500}).json()["items"]
    assert len(calls) == 6 and {c["status"] for c in calls} == {"ok", "error"}
    bodies += [api.get(f"/api/llm/calls/{call['id']}").text for call in calls]
    bodies += [api.get("/api/usage").text, api.get("/api/usage/series").text]
    bodies += [api.get("/api/usage/grouped", params={"group_by": group}).text for group in ("config", "agent", "model")]

    assert all(PASTED_KEY not in body and ENV_KEY not in body for body in bodies)
    # The echo was answered (400 and an error event) with the key masked, so the test did see it come back.
    assert sum("Invalid request with key sk-" in body for body in bodies) == 4  # 400, error event, 2 call details
