"""The API under test runs in uvicorn (the production ASGI server) on a free port, spoken to over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from conductor_site.local_servers import free_port
from conductor_site.models import api_token_issue


@dataclass
class ApiServer:
    url: str

    def client(self, token: str | None = None, headers: dict[str, str] | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else (headers or {})
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture
def api_server(transactional_db, settings) -> Iterator[ApiServer]:
    from conductor_site.asgi import application

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    port = free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.01)
    yield ApiServer(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="owner-password")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staffer", password="staff-password", is_staff=True)


@pytest.fixture
def owner_token(owner) -> str:
    return api_token_issue(user=owner, name="tests")[1]


@pytest.fixture
def staff_token(staff) -> str:
    return api_token_issue(user=staff, name="tests")[1]


@pytest.fixture
def api(api_server: ApiServer, owner_token: str) -> Iterator[httpx.Client]:
    """A client authenticated with an ordinary (non-staff) user's token."""
    with api_server.client(owner_token) as client:
        yield client


@pytest.fixture
def staff_api(api_server: ApiServer, staff_token: str) -> Iterator[httpx.Client]:
    with api_server.client(staff_token) as client:
        yield client


def artifact_json(**overrides) -> dict:
    fields = {
        "workflow_id": "wf-1",
        "task_id": "task-1",
        "agent_id": "coder",
        "artifact_type": "code",
        "content": "print('hi')\n",
        "metadata": {"language": "python"},
    }
    fields.update(overrides)
    return fields
