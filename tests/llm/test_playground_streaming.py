"""The playground's stream served by uvicorn (ASGI), as in production: events arrive as the provider
yields them, and a client that goes away cancels the provider's stream, which the ledger records."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from llm.models import CallStatus, LLMCall
from llm.providers.mock_content import default_response
from llm.sse import parse_sse
from tests.asgi_server import CSRF_TOKEN, signed_in_cookies
from tests.factories import make_provider_config

pytestmark = pytest.mark.django_db(transaction=True)

DELAY = 0.05
TEXT = "one two three four five six seven eight nine ten eleven twelve"


@pytest.fixture
def client(asgi_live_server, django_user_model):
    user = django_user_model.objects.create_user("streamer", password="x")
    with httpx.Client(
        base_url=asgi_live_server.url,
        cookies=signed_in_cookies(user),
        headers={"X-CSRFToken": CSRF_TOKEN},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def paced_config():
    """A mock config that streams one word every DELAY seconds."""
    return make_provider_config(name="paced", options={"stream_delay_seconds": DELAY})


def _post(client: httpx.Client, prompt: str, **fields: str):
    return client.stream("POST", "/playground/stream", data={"config": "paced", "prompt": prompt, **fields})


def _events(lines: list[str]) -> list[tuple[str, dict]]:
    return parse_sse("\n".join(lines) + "\n\n")


def test_chunks_arrive_as_the_provider_yields_them(client, paced_config) -> None:
    arrivals: list[tuple[str, float, dict]] = []
    with _post(client, f"Repeat: {TEXT}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        block: list[str] = []
        for line in response.iter_lines():
            if line:
                block.append(line)
                continue
            [(name, data)] = _events(block)
            arrivals.append((name, time.time(), data))
            block = []
    names = [name for name, _, _ in arrivals]
    assert names[0] == "start" and names[-1] == "done"
    chunks = [(received, data) for name, received, data in arrivals if name == "chunk"]
    assert len(chunks) >= 10
    # Streamed, not buffered: the first chunk arrived long before the last was made.
    assert chunks[-1][1]["at"] - chunks[0][0] > DELAY * (len(chunks) - 3)
    # Each chunk reached the client soon after the provider yielded it.
    assert max(received - data["at"] for received, data in chunks) < 0.5


def test_a_client_that_goes_away_cancels_the_call_and_the_ledger_keeps_its_tokens(client, paced_config) -> None:
    with _post(client, f"Repeat: {TEXT}", run="run-stopped") as response:
        lines = response.iter_lines()
        seen = []
        for line in lines:
            if line.startswith("event: chunk"):
                seen.append(line)
            if len(seen) == 3:
                break
    # The connection is closed: the server cancels the provider stream and records the call.
    deadline = time.monotonic() + 5
    while not (call := LLMCall.objects.filter(task_id="run-stopped").first()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert call is not None, "the cancelled call was not recorded"
    assert call.status == CallStatus.CANCELLED
    assert call.agent_id == "playground"
    assert call.completion_tokens > 0 and call.prompt_tokens > 0
    full_answer, _ = default_response(f"Repeat: {TEXT}")
    assert call.response and full_answer.startswith(call.response) and len(call.response) < len(full_answer)
    assert call.cost_usd is not None or call.price_source == "unknown"


def test_columns_run_at_once_and_one_failing_leaves_the_other_streaming(client, paced_config) -> None:
    make_provider_config(name="off", enabled=False)
    make_provider_config(
        name="down", provider="openai-compatible", model="x", base_url="http://127.0.0.1:9/v1", max_retries=0
    )
    import llm.providers.openai_provider  # noqa: F401 - import the SDK before timing

    with (
        _post(client, f"Repeat: {TEXT}") as paced,
        client.stream("POST", "/playground/stream", data={"config": "down", "prompt": "hi"}) as down,
    ):
        down_events = _events(list(down.iter_lines()))
        down_finished_at = time.time()
        paced_events = _events(list(paced.iter_lines()))
    assert down_events[-1][0] == "error"
    assert down_events[-1][1]["error_class"] == "LLMProviderUnavailableError"
    assert paced_events[-1][0] == "done"
    # The paced column went on streaming after the other one failed.
    assert any(data["at"] > down_finished_at for name, data in paced_events if name == "chunk")
    refused = client.post("/playground/stream", data={"config": "off", "prompt": "hi"})
    assert refused.status_code == 400
    assert json.loads(refused.text)["errors"]["config"] == [
        "Provider config 'off' is disabled; enable it in the admin to run it."
    ]
