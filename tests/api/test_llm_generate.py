"""generate and generate/stream over HTTP against uvicorn: bodies, events, the ledger, and errors mapped."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from llm.models import CallStatus, LLMCall, ProviderConfig
from llm.sse import parse_sse
from tests.asgi_server import free_port
from tests.factories import make_provider_config
from tests.llm.vendor_servers import FakeOpenAIServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = "Write a function that reverses a string"


@pytest.fixture(autouse=True)
def priced_mock() -> ProviderConfig:
    """The mock at $1 / $2 per million tokens, so every call has a cost to check."""
    # The migration's `mock` row is there in the first transactional test only (later ones start emptied).
    ProviderConfig.objects.filter(name="mock").delete()
    return make_provider_config(name="mock", input_price_per_million=1, output_price_per_million=2)


@pytest.fixture
def openai_server():
    with FakeOpenAIServer() as server:
        yield server


def vendor_config(server: FakeOpenAIServer, name: str = "vendor", **fields) -> ProviderConfig:
    """An OpenAI config pointing at the fake server, with the server's key pasted in (stored encrypted)."""
    fields = {"timeout_seconds": 2, "max_retries": 0, **fields}
    config = make_provider_config(name=name, provider="openai", model="gpt-4o-mini", base_url=server.base_url, **fields)
    config.set_api_key(server.api_key)
    config.save()
    return config


def read_events(api, **body) -> tuple[int, list[tuple[str, dict]]]:
    with api.stream("POST", "/api/llm/generate/stream", json={"config": "mock", "prompt": PROMPT, **body}) as response:
        text = response.read().decode()
        if response.status_code != 200:
            return response.status_code, [("refused", json.loads(text))]
        assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache, no-store"
        return 200, parse_sse(text)


# generate


def test_generate_answers_with_content_usage_cost_and_the_recorded_call(api) -> None:
    body = {"config": "mock", "prompt": PROMPT, "agent_id": "coder", "workflow_id": "wf-7", "task_id": "t-1"}
    response = api.post("/api/llm/generate", json=body)
    assert response.status_code == 200
    answer = response.json()
    call = LLMCall.objects.get()
    assert answer["call_id"] == call.pk and answer["status"] == "ok"
    assert (answer["config"], answer["provider"], answer["model"]) == ("mock", "mock", "mock-model")
    assert answer["content"] == call.response and answer["content"]
    assert answer["finish_reason"] == "stop"
    assert answer["usage"]["prompt_tokens"] == call.prompt_tokens > 0
    assert answer["usage"]["total_tokens"] == call.total_tokens
    assert isinstance(answer["cost_usd"], str) and Decimal(answer["cost_usd"]) == call.cost_usd > 0
    assert answer["price_source"] == "config" and answer["latency_ms"] >= 0
    assert (call.agent_id, call.workflow_id, call.task_id, call.config_name) == ("coder", "wf-7", "t-1", "mock")
    assert call.prompt == PROMPT and not call.streamed


def test_generate_passes_the_parameters_to_the_call(api) -> None:
    body = {"config": "mock", "prompt": PROMPT, "system": "Be brief", "temperature": 0.2, "max_tokens": 1}
    answer = api.post("/api/llm/generate", json={**body, "stop": ["zzz"]}).json()
    assert answer["finish_reason"] == "length"
    call = LLMCall.objects.get()
    assert call.system == "Be brief"
    assert call.request_params == {"temperature": 0.2, "max_tokens": 1, "stop": ["zzz"]}


def test_a_config_with_its_cache_on_answers_the_second_time_for_free(api, priced_mock) -> None:
    priced_mock.cache_enabled = True
    priced_mock.save()
    first = api.post("/api/llm/generate", json={"config": "mock", "prompt": PROMPT}).json()
    second = api.post("/api/llm/generate", json={"config": "mock", "prompt": PROMPT}).json()
    assert (first["status"], second["status"]) == ("ok", "cached")
    assert second["content"] == first["content"] and Decimal(second["cost_usd"]) == 0
    assert LLMCall.objects.get(pk=second["call_id"]).cached_from_id == first["call_id"]


def test_an_unknown_config_is_a_404_listing_the_enabled_ones(api) -> None:
    make_provider_config(name="off", enabled=False)
    response = api.post("/api/llm/generate", json={"config": "nope", "prompt": PROMPT})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No provider config named 'nope'. Enabled configs: mock.",
        "enabled_configs": ["mock"],
    }
    assert not LLMCall.objects.exists()


def test_a_disabled_config_is_a_409_listing_the_enabled_ones(api) -> None:
    make_provider_config(name="off", enabled=False)
    for path in ("/api/llm/generate", "/api/llm/generate/stream"):
        response = api.post(path, json={"config": "off", "prompt": PROMPT})
        assert response.status_code == 409
        assert "is disabled" in response.json()["detail"]
        assert response.json()["enabled_configs"] == ["mock"]
    assert not LLMCall.objects.exists()


def test_a_misconfigured_config_is_a_409_that_says_what_is_wrong(api) -> None:
    make_provider_config(name="broken", provider="openai-compatible", model="llama", base_url="")
    response = api.post("/api/llm/generate", json={"config": "broken", "prompt": PROMPT})
    assert response.status_code == 409
    assert "base_url" in response.json()["detail"] and "admin" in response.json()["detail"]


@pytest.mark.parametrize("field", ["base_url", "api_key", "api_key_env", "provider", "model"])
def test_the_api_never_takes_a_base_url_a_key_or_a_model_from_the_caller(api, field: str) -> None:
    response = api.post("/api/llm/generate", json={"config": "mock", "prompt": PROMPT, field: "http://evil/v1"})
    assert response.status_code == 422
    assert any(e["loc"][-1] == field and "Extra inputs" in e["msg"] for e in response.json()["detail"])
    assert not LLMCall.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"config": None}, "config", "valid string"),
        ({"prompt": ""}, "prompt", "at least 1 character"),
        ({"prompt": "a\x00b"}, "prompt", "NUL"),
        ({"temperature": 2.5}, "temperature", "less than or equal to 2"),
        ({"max_tokens": 0}, "max_tokens", "greater than or equal to 1"),
        ({"stop": ["x"] * 9}, "stop", "1 to 8 stop sequences"),
        ({"stop": [""]}, "stop", "at least 1 character"),
        ({"agent_id": "a" * 201}, "agent_id", "at most 200"),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(api, overrides, field, words) -> None:
    body = {"config": "mock", "prompt": PROMPT, **overrides}
    for path in ("/api/llm/generate", "/api/llm/generate/stream"):
        response = api.post(path, json=body)
        assert response.status_code == 422
        errors = response.json()["detail"]
        assert any(field in e["loc"] and words in e["msg"] for e in errors), errors
    assert not LLMCall.objects.exists()


def test_a_provider_that_is_down_is_a_503_and_recorded(api) -> None:
    make_provider_config(
        name="local",
        provider="openai-compatible",
        model="llama",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        max_retries=0,
        timeout_seconds=2,
    )
    response = api.post("/api/llm/generate", json={"config": "local", "prompt": PROMPT, "agent_id": "coder"})
    assert response.status_code == 503
    body = response.json()
    assert body["error_class"] == "LLMProviderUnavailableError"
    assert body["detail"].startswith("The provider is unavailable.")
    call = LLMCall.objects.get()
    assert (call.status, call.error_class, call.agent_id) == (CallStatus.ERROR, "LLMProviderUnavailableError", "coder")


def test_vendor_errors_map_to_statuses(api, openai_server) -> None:
    vendor_config(openai_server)
    vendor_config(openai_server, name="impatient", timeout_seconds=0.3)
    openai_server.queue(
        Reply.rate_limited(retry_after=7.2),
        Reply.error(400, "This model's maximum context length is 128000 tokens."),
        Reply.error(500),
        Reply.hang(2),
    )
    cases = [("vendor", 429, "LLMRateLimitError"), ("vendor", 400, "LLMBadRequestError")]
    cases += [("vendor", 503, "LLMProviderUnavailableError"), ("impatient", 504, "LLMTimeoutError")]
    answers = [api.post("/api/llm/generate", json={"config": name, "prompt": PROMPT}) for name, _, _ in cases]
    assert [(r.status_code, r.json()["error_class"]) for r in answers] == [(s, c) for _, s, c in cases]
    limited, refused = answers[0], answers[1]
    assert limited.headers["Retry-After"] == "8"
    assert limited.json()["retry_after_seconds"] == 7.2 and limited.json()["detail"].endswith("Try again in 8 s.")
    assert refused.json()["detail"].startswith("The provider refused the request.")
    assert refused.json()["detail"].endswith("This model's maximum context length is 128000 tokens.")
    assert answers[3].json()["detail"].startswith("The provider did not answer in time.")
    assert set(LLMCall.objects.values_list("status", flat=True)) == {CallStatus.ERROR}


def test_a_refused_key_is_a_502_that_names_the_config_not_the_key(api, openai_server) -> None:
    config = vendor_config(openai_server, name="wrong-key")
    config.set_api_key("sk-wrong-key-0123456789abcdef")
    config.save()
    response = api.post("/api/llm/generate", json={"config": "wrong-key", "prompt": PROMPT})
    assert response.status_code == 502
    assert response.json()["error_class"] == "LLMAuthenticationError"
    assert response.json()["detail"] == (
        "The provider did not accept the credentials of config 'wrong-key'; fix its key in the admin."
    )
    assert "sk-wrong" not in response.text and "cdef" not in response.text
    assert LLMCall.objects.get().error_class == "LLMAuthenticationError"


def test_our_own_rate_limit_is_a_429_with_retry_after(api, priced_mock) -> None:
    priced_mock.requests_per_minute = 1
    priced_mock.rate_limit_max_wait_seconds = 0
    priced_mock.save()
    assert api.post("/api/llm/generate", json={"config": "mock", "prompt": PROMPT}).status_code == 200
    response = api.post("/api/llm/generate", json={"config": "mock", "prompt": PROMPT})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.json()["error_class"] == "LLMRateLimitError"


# generate/stream


def test_the_stream_sends_chunks_then_done_and_is_recorded(api) -> None:
    status, events = read_events(api, agent_id="coder", workflow_id="wf-7", task_id="t-2")
    assert status == 200
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"chunk"} and len(names) > 3
    text = "".join(data["text"] for name, data in events if name == "chunk")
    done = events[-1][1]
    call = LLMCall.objects.get()
    assert done["call_id"] == call.pk and done["status"] == "ok"
    assert (done["config"], done["provider"], done["model"], done["finish_reason"]) == (
        "mock",
        "mock",
        "mock-model",
        "stop",
    )
    assert done["usage"]["completion_tokens"] == call.completion_tokens > 0
    assert Decimal(done["cost_usd"]) == call.cost_usd > 0 and done["price_source"] == "config"
    assert done["latency_ms"] >= done["time_to_first_token_ms"] >= 0
    assert call.response == text and call.streamed
    assert (call.agent_id, call.workflow_id, call.task_id) == ("coder", "wf-7", "t-2")


def test_an_unknown_config_is_refused_before_the_stream_starts(api) -> None:
    status, events = read_events(api, config="nope")
    assert status == 404
    assert events == [
        ("refused", {"detail": "No provider config named 'nope'. Enabled configs: mock.", "enabled_configs": ["mock"]})
    ]


def test_a_provider_that_is_down_ends_the_stream_with_an_error_event(api) -> None:
    make_provider_config(
        name="local",
        provider="openai-compatible",
        model="llama",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        max_retries=0,
        timeout_seconds=2,
    )
    status, events = read_events(api, config="local")
    assert status == 200
    assert [name for name, _ in events] == ["error"]
    error = events[0][1]
    assert (error["error_class"], error["http_status"], error["status"]) == (
        "LLMProviderUnavailableError",
        503,
        "error",
    )
    assert error["message"].startswith("The provider is unavailable.") and "Traceback" not in error["message"]
    call = LLMCall.objects.get()
    assert error["call_id"] == call.pk and call.status == CallStatus.ERROR


def test_a_failure_half_way_sends_the_text_so_far_then_an_error_with_its_tokens(api, openai_server) -> None:
    vendor_config(openai_server)
    openai_server.queue(Reply(text="one two three four five six seven eight", error_after_chunks=2))
    _, events = read_events(api, config="vendor")
    names = [name for name, _ in events]
    assert names == ["chunk", "chunk", "error"]
    error = events[-1][1]
    call = LLMCall.objects.get(pk=error["call_id"])
    assert call.status == CallStatus.ERROR
    assert call.response == "".join(data["text"] for name, data in events if name == "chunk")
    assert error["usage"]["completion_tokens"] == call.completion_tokens > 0


def test_a_rate_limited_stream_says_when_to_try_again(api, openai_server) -> None:
    vendor_config(openai_server)
    openai_server.queue(Reply.rate_limited(retry_after=30))
    _, events = read_events(api, config="vendor")
    ((name, error),) = events
    assert (name, error["http_status"], error["retry_after_seconds"]) == ("error", 429, 30)
    assert error["message"].endswith("Try again in 30 s.")


def test_a_client_that_disconnects_closes_the_provider_stream_recorded_as_cancelled(api) -> None:
    make_provider_config(
        name="slow", options={"stream_delay_seconds": 0.1}, input_price_per_million=1, output_price_per_million=2
    )
    with api.stream("POST", "/api/llm/generate/stream", json={"config": "slow", "prompt": PROMPT}) as response:
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: chunk"
    # Leaving the block closed the connection after the first chunk; the server notices and cancels.
    deadline = time.monotonic() + 10
    while not LLMCall.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    call = LLMCall.objects.get()
    assert call.status == CallStatus.CANCELLED and call.streamed
    assert call.response and call.completion_tokens > 0 and call.cost_usd is not None
