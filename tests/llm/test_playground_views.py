"""The playground: the page, one column's event stream, saving an output, replaying an artifact's prompt."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from artifacts.store import get_artifact_store
from llm.models import CallStatus, LLMCall, ProviderConfig
from llm.playground import PLAYGROUND_AGENT
from llm.sse import parse_sse
from tests.asgi_server import free_port
from tests.factories import make_llm_call, make_provider_config, store_artifact
from tests.llm.vendor_servers import FakeOpenAIServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = "Write a function that reverses a string"


@pytest.fixture(autouse=True)
def mock_config():
    """The free `mock` config that migrations make (a transactional test starts from an emptied database)."""
    config, _ = ProviderConfig.objects.get_or_create(
        name="mock",
        defaults={
            "provider": "mock",
            "model": "mock-model",
            "input_price_per_million": 0,
            "output_price_per_million": 0,
        },
    )
    return config


def stream(client, **fields) -> tuple[int, list[tuple[str, dict]]]:
    """POST one column and read its whole event stream."""
    response = client.post("/playground/stream", {"system": "", "prompt": PROMPT, **fields})
    if not response.streaming:
        return response.status_code, [("refused", response.json())]
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-cache, no-store"
    body = b"".join(async_to_sync(_read)(response)).decode()
    return response.status_code, parse_sse(body)


async def _read(response) -> list[bytes]:
    return [chunk async for chunk in response]


# The page


@pytest.mark.parametrize("url", ["/playground/", "/playground/save", "/playground/diff"])
def test_the_pages_need_login(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_stream_needs_login(client) -> None:
    response = client.post("/playground/stream", {"config": "mock", "prompt": PROMPT})
    assert response.status_code == 302


def test_the_page_offers_the_enabled_configs_with_the_mock_chosen(viewer_client) -> None:
    make_provider_config(name="fast", model="mock-model-large")
    make_provider_config(name="off", enabled=False)
    response = viewer_client.get("/playground/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<input type="checkbox" name="configs" value="fast" id="id_configs_0">' in html
    assert '<input type="checkbox" name="configs" value="mock" id="id_configs_1" checked>' in html
    assert "fast · mock/mock-model-large" in html
    assert 'value="off"' not in html
    assert '<a href="/playground/" aria-current="page">Playground</a>' in html
    assert 'src="/static/js/playground.js"' in html
    workflow = viewer_client.session["playground_workflow"]
    assert workflow.startswith("playground-viewer-")
    assert f'placeholder="{workflow}"' in html


# The stream


def test_a_column_streams_start_chunks_and_done_with_usage(viewer_client) -> None:
    status, events = stream(viewer_client, config="mock", run="run-abc", system="Be brief")
    assert status == 200
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert set(names[1:-1]) == {"chunk"} and len(names) > 5
    start, done = events[0][1], events[-1][1]
    assert start == {
        "config": "mock",
        "provider": "mock",
        "model": "mock-model",
        "workflow_id": viewer_client.session["playground_workflow"],
        "task_id": "run-abc",
    }
    text = "".join(data["text"] for name, data in events if name == "chunk")
    assert all(isinstance(data["at"], float) for name, data in events if name == "chunk")
    call = LLMCall.objects.get()
    assert done["call_id"] == call.pk
    assert done["call_url"] == f"/usage/calls/{call.pk}/"
    assert done["status"] == "ok" and done["finish_reason"] == "stop"
    assert done["usage"] == {
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "total_tokens": call.total_tokens,
    }
    assert done["usage"]["completion_tokens"] > 0
    assert done["cost_usd"] is not None and Decimal(done["cost_usd"]) == 0 and done["cost_display"] == "$0.00"
    assert done["price_source"] == "config"
    assert done["latency_ms"] >= done["time_to_first_token_ms"] >= 0
    # Recorded like any agent's call, attributed to the playground and the operator's session.
    assert call.response == text and call.system == "Be brief" and call.prompt == PROMPT
    assert call.streamed and call.status == CallStatus.OK
    assert (call.agent_id, call.workflow_id, call.task_id) == (
        PLAYGROUND_AGENT,
        viewer_client.session["playground_workflow"],
        "run-abc",
    )


def test_the_operator_names_the_workflow_and_overrides_temperature_and_max_tokens(viewer_client) -> None:
    status, events = stream(viewer_client, config="mock", workflow="wf-tuning", temperature="0.2", max_tokens="5")
    assert status == 200
    assert events[-1][0] == "done" and events[-1][1]["finish_reason"] == "length"
    call = LLMCall.objects.get()
    assert call.workflow_id == "wf-tuning"
    assert call.task_id.startswith("run-")  # a run id is made when the page sends none
    assert call.request_params == {"temperature": 0.2, "max_tokens": 5}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"config": "nope"}, "config", "No provider config is named 'nope'."),
        ({"config": "off"}, "config", "Provider config 'off' is disabled; enable it in the admin to run it."),
        ({"config": ""}, "config", "Choose a provider config."),
        ({"config": "mock", "prompt": "   "}, "prompt", "Write a prompt to run."),
        ({"config": "mock", "prompt": ""}, "prompt", "Write a prompt to run."),
        ({"config": "mock", "temperature": "2.5"}, "temperature", "less than or equal to 2.0"),
        ({"config": "mock", "temperature": "hot"}, "temperature", "Enter a number."),
        ({"config": "mock", "max_tokens": "0"}, "max_tokens", "greater than or equal to 1"),
        ({"config": "mock", "max_tokens": "999999999"}, "max_tokens", "less than or equal to 200000"),
        ({"config": "mock", "run": "../etc"}, "run", "A run id is up to 64 letters"),
    ],
)
def test_bad_input_is_refused_with_a_plain_message_and_nothing_is_called(viewer_client, fields, field, message) -> None:
    make_provider_config(name="off", enabled=False)
    status, events = stream(viewer_client, **fields)
    assert status == 400
    [(name, body)] = events
    assert message in " ".join(body["errors"][field])
    assert not LLMCall.objects.exists()


def test_the_stream_only_answers_post(viewer_client) -> None:
    assert viewer_client.get("/playground/stream").status_code == 405


def test_a_provider_that_is_down_ends_the_column_with_an_error_event(viewer_client) -> None:
    make_provider_config(
        name="local",
        provider="openai-compatible",
        model="llama",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        max_retries=0,
        timeout_seconds=2,
    )
    status, events = stream(viewer_client, config="local")
    assert status == 200
    assert [name for name, _ in events] == ["start", "error"]
    error = events[-1][1]
    assert error["error_class"] == "LLMProviderUnavailableError"
    assert error["title"] == "Provider unavailable"
    assert error["message"] and "Traceback" not in error["message"]
    call = LLMCall.objects.get()
    assert error["call_id"] == call.pk and call.status == CallStatus.ERROR
    assert call.error_class == "LLMProviderUnavailableError"


def test_a_bad_key_and_a_rate_limit_are_shown_as_plain_sentences_without_the_key(viewer_client) -> None:
    with FakeOpenAIServer() as server:
        make_provider_config(
            name="wrong-key",
            provider="openai-compatible",
            model="gpt-x",
            base_url=server.base_url,
            max_retries=0,
            api_key_env="PLAYGROUND_TEST_NO_SUCH_KEY",
        )
        config = make_provider_config(
            name="busy", provider="openai-compatible", model="gpt-x", base_url=server.base_url, max_retries=0
        )
        config.set_api_key("sk-wrong-key-1234567890")
        config.save()
        _, bad_key = stream(viewer_client, config="busy")
        server.api_key = None
        server.queue(Reply.rate_limited(retry_after=30))
        _, limited = stream(viewer_client, config="busy")
    assert bad_key[-1][0] == "error"
    assert bad_key[-1][1]["error_class"] == "LLMAuthenticationError"
    assert bad_key[-1][1]["title"] == "The provider refused the credentials"
    assert "sk-wrong-key-1234567890" not in json.dumps(bad_key)
    assert limited[-1][1]["error_class"] == "LLMRateLimitError"
    assert limited[-1][1]["message"].endswith("Try again in 30 s.")


def test_a_failure_half_way_keeps_the_text_so_far_and_records_its_tokens(viewer_client) -> None:
    with FakeOpenAIServer() as server:
        server.api_key = None
        server.queue(Reply(text="one two three four five six seven eight", error_after_chunks=2))
        make_provider_config(
            name="flaky", provider="openai-compatible", model="gpt-x", base_url=server.base_url, max_retries=0
        )
        _, events = stream(viewer_client, config="flaky")
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "error" and names.count("chunk") == 2
    error = events[-1][1]
    call = LLMCall.objects.get(pk=error["call_id"])
    assert call.status == CallStatus.ERROR and call.response == "".join(d["text"] for n, d in events if n == "chunk")
    assert error["usage"]["completion_tokens"] == call.completion_tokens > 0


# Without JavaScript


def test_without_javascript_posting_the_form_runs_every_column_on_the_server(viewer_client) -> None:
    make_provider_config(name="second", model="mock-model-large")
    response = viewer_client.post(
        "/playground/", {"configs": ["mock", "second"], "prompt": "Write a review", "system": "<b>terse</b>"}
    )
    assert response.status_code == 200
    columns = response.context["columns"]
    assert [column["started"].config for column in columns] == ["mock", "second"]
    assert all(column["outcome"]["event"] == "done" and column["text"] for column in columns)
    html = response.content.decode()
    assert html.count('<article class="column" data-state="done">') == 2
    assert LLMCall.objects.filter(agent_id=PLAYGROUND_AGENT).count() == 2
    assert len({call.task_id for call in LLMCall.objects.all()}) == 1  # one run, two columns


def test_without_javascript_bad_input_shows_form_errors(viewer_client) -> None:
    response = viewer_client.post("/playground/", {"prompt": "", "temperature": "9"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose at least one provider config." in html
    assert "Write a prompt to run." in html
    assert "less than or equal to 2.0" in html
    assert not LLMCall.objects.exists()


# Save as artifact


def _playground_call(viewer_client) -> LLMCall:
    stream(viewer_client, config="mock", run="run-save", prompt="Write a review")
    return LLMCall.objects.get()


def test_an_output_is_saved_from_the_recorded_call_not_from_the_browser(viewer_client) -> None:
    call = _playground_call(viewer_client)
    response = viewer_client.post(
        "/playground/save",
        {
            "call_id": call.pk,
            "artifact_type": "review",
            "workflow": "wf-reviews",
            "task": "task-9",
            "agent": "reviewer",
            "content": "forged content",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    artifact_id = response.context["artifact"].artifact_id
    assert f'<a href="/artifacts/{artifact_id}/">{artifact_id}</a>' in response.content.decode()
    artifact = async_to_sync(get_artifact_store().get)(artifact_id)
    assert artifact.content == call.response != "forged content"
    assert (artifact.artifact_type, artifact.workflow_id, artifact.task_id, artifact.agent_id) == (
        "review",
        "wf-reviews",
        "task-9",
        "reviewer",
    )
    assert artifact.metadata == {
        "source": "playground",
        "llm_call_id": call.pk,
        "config": "mock",
        "provider": "mock",
        "model": "mock-model",
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "total_tokens": call.total_tokens,
        "cost_usd": str(call.cost_usd),
        "call_status": "ok",
    }


def test_without_htmx_saving_redirects_to_the_artifact(viewer_client) -> None:
    call = _playground_call(viewer_client)
    response = viewer_client.post(
        "/playground/save",
        {"call_id": call.pk, "artifact_type": "code", "workflow": "wf-1", "task": "t-1", "agent": "playground"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/artifacts/art-")


@pytest.mark.parametrize(
    ("call_fields", "message"),
    [
        ({"agent_id": "coder"}, "was not made in the playground"),
        (
            {"agent_id": PLAYGROUND_AGENT, "status": "error", "error_class": "LLMTimeoutError"},
            "failed (LLMTimeoutError)",
        ),
        ({"agent_id": PLAYGROUND_AGENT, "response": ""}, "produced no text"),
    ],
)
def test_only_playground_calls_with_output_can_be_saved(viewer_client, call_fields, message) -> None:
    call = make_llm_call(**call_fields)
    response = viewer_client.post(
        "/playground/save",
        {"call_id": call.pk, "artifact_type": "code", "workflow": "wf-1", "task": "t-1", "agent": "playground"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert message in response.content.decode()


def test_saving_an_unknown_call_or_a_bad_type_says_so(viewer_client) -> None:
    unknown = viewer_client.post(
        "/playground/save",
        {"call_id": 999999, "artifact_type": "code", "workflow": "wf-1", "task": "t-1", "agent": "playground"},
        headers={"HX-Request": "true"},
    )
    assert unknown.status_code == 400 and "No recorded call has number 999999." in unknown.content.decode()
    bad_type = viewer_client.post(
        "/playground/save",
        {"call_id": 1, "artifact_type": "poem", "workflow": "", "task": "t-1", "agent": "playground"},
        headers={"HX-Request": "true"},
    )
    assert bad_type.status_code == 400
    assert "artifact_type: Select a valid choice." in bad_type.content.decode()
    assert "workflow: This field is required." in bad_type.content.decode()


# Replay


def test_an_artifact_from_a_call_links_to_its_replay_and_others_do_not(viewer_client) -> None:
    call = make_llm_call(agent_id=PLAYGROUND_AGENT)
    with_call = store_artifact(metadata={"llm_call_id": call.pk})
    without = store_artifact(metadata={"language": "python"})
    html = viewer_client.get(f"/artifacts/{with_call.artifact_id}/").content.decode()
    assert f'href="/playground/?replay={with_call.artifact_id}">Replay in playground</a>' in html
    assert "Replay in playground" not in viewer_client.get(f"/artifacts/{without.artifact_id}/").content.decode()


def test_replay_opens_the_playground_with_the_calls_prompts(viewer_client) -> None:
    other = make_provider_config(name="other")
    call = make_llm_call(
        config=other,
        config_name="other",
        system="You <review> code.",
        prompt="Review this diff",
        request_params={"temperature": 0.3, "max_tokens": 300},
    )
    artifact = store_artifact(metadata={"llm_call_id": call.pk}, content="old review\n")
    response = viewer_client.get(f"/playground/?replay={artifact.artifact_id}")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["system"].value() == "You <review> code." and form["prompt"].value() == "Review this diff"
    assert form["configs"].value() == ["other"]
    assert form["temperature"].value() == 0.3 and form["max_tokens"].value() == 300
    html = response.content.decode()
    assert f'name="replay" value="{artifact.artifact_id}"' in html
    assert "You &lt;review&gt; code." in html
    assert f'made by <a href="/usage/calls/{call.pk}/">call #{call.pk}</a>' in html


def test_replay_of_an_artifact_without_a_call_says_why(viewer_client) -> None:
    artifact = store_artifact(metadata={"llm_call_id": 424242})
    html = viewer_client.get(f"/playground/?replay={artifact.artifact_id}").content.decode()
    assert "Call #424242, which produced this artifact, is no longer recorded." in html
    assert "No artifact has id" in viewer_client.get("/playground/?replay=art-missing").content.decode()


def test_a_replayed_run_shows_a_diff_against_the_stored_artifact_escaped(viewer_client) -> None:
    artifact = store_artifact(metadata={"llm_call_id": 12345}, content="keep\n<script>old()</script>\n")
    call = make_llm_call(agent_id=PLAYGROUND_AGENT, response="keep\n<img src=x onerror=new()>\n")
    response = viewer_client.get(f"/playground/diff?artifact={artifact.artifact_id}&call={call.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="diff-del">-&lt;script&gt;old()&lt;/script&gt;</span>' in html
    assert '<span class="diff-add">+&lt;img src=x onerror=new()&gt;</span>' in html
    assert '<span class="diff-same"> keep</span>' in html
    assert "<script>" not in html and "<img" not in html


def test_a_replay_with_the_same_output_says_so(viewer_client) -> None:
    artifact = store_artifact(metadata={"llm_call_id": 1}, content="same\n")
    call = make_llm_call(agent_id=PLAYGROUND_AGENT, response="same\n")
    html = viewer_client.get(f"/playground/diff?artifact={artifact.artifact_id}&call={call.pk}").content.decode()
    assert "Same as the stored artifact." in html


def test_a_diff_of_an_unknown_call_or_artifact_is_a_404_with_a_reason(viewer_client) -> None:
    artifact = store_artifact(metadata={"llm_call_id": 1})
    response = viewer_client.get(f"/playground/diff?artifact={artifact.artifact_id}&call=x")
    assert response.status_code == 404 and "No recorded call has that number." in response.content.decode()
    response = viewer_client.get("/playground/diff?artifact=art-nope&call=1")
    assert response.status_code == 404 and "No artifact has id" in response.content.decode()
