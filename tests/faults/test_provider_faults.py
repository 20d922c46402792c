"""A vendor that hangs, answers garbage or drops the connection: the caller gets the right LLMError within the
timeout, the call is in the ledger as an error with its class and message, and the call's page shows it.

The official SDKs run against the fake vendor servers (tests/llm/vendor_servers.py), through the configured,
recorded provider that agents and the API use."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async

from llm.configured import aprovider_for
from llm.models import LLMCall, ProviderConfig
from llm.providers import LLMError, LLMProviderUnavailableError, LLMTimeoutError
from tests.llm.vendor_servers import FAKE_API_KEY, Reply

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 1.0


def configure(server) -> None:
    config = ProviderConfig(
        name="flaky",
        provider=server.provider_name,
        model=server.default_model,
        base_url=server.base_url,
        timeout_seconds=TIMEOUT,
        max_retries=0,
    )
    config.set_api_key(FAKE_API_KEY)
    config.save()


async def call(server, reply: Reply, *, stream: bool) -> tuple[LLMError, float, str]:
    """Make one call that fails; the error, how long it took, and the text received before it failed."""
    await sync_to_async(configure)(server)
    server.queue(reply)
    provider = await aprovider_for("flaky", agent_id="coder")
    received: list[str] = []
    started = time.monotonic()
    with pytest.raises(LLMError) as failure:
        if stream:
            async for chunk in provider.generate_stream("Write a parser"):
                received.append(chunk)
        else:
            await provider.generate("Write a parser")
    return failure.value, time.monotonic() - started, "".join(received)


async def recorded_error() -> LLMCall:
    calls = [c async for c in LLMCall.objects.all()]
    assert len(calls) == 1
    assert calls[0].status == "error"
    return calls[0]


LONG_TEXT = "one two three four five six seven eight nine ten"

FAULTS = {
    "hangs before answering": (Reply.hang(10), False, LLMTimeoutError),
    "hangs mid-stream": (Reply(text=LONG_TEXT, hang_after_chunks=2), True, LLMTimeoutError),
    "answers an HTML page": (Reply.garbage(), False, LLMProviderUnavailableError),
    "answers an HTML page to a stream": (Reply.garbage(), True, LLMProviderUnavailableError),
    "answers JSON of another shape": (
        Reply.garbage(b'{"unexpected": true}', raw_content_type="application/json"),
        False,
        LLMProviderUnavailableError,
    ),
    "sends a malformed event mid-stream": (
        Reply(text=LONG_TEXT, garbage_after_chunks=2),
        True,
        LLMProviderUnavailableError,
    ),
    "drops the connection before answering": (Reply.dropped(), False, LLMProviderUnavailableError),
    "drops the connection mid-stream": (Reply(text=LONG_TEXT, drop_after_chunks=2), True, LLMProviderUnavailableError),
}


@pytest.mark.parametrize("vendor", ["openai_server", "anthropic_server"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_a_faulty_vendor_gives_the_right_error_in_time_and_is_recorded(vendor, fault, request) -> None:
    server = request.getfixturevalue(vendor)
    reply, stream, expected = FAULTS[fault]
    error, seconds, received = await call(server, reply, stream=stream)

    assert isinstance(error, expected), f"{type(error).__name__}: {error}"
    assert seconds < TIMEOUT + 1.5, f"took {seconds:.1f} s"
    recorded = await recorded_error()
    assert recorded.error_class == type(error).__name__
    assert recorded.error_message == str(error)
    assert recorded.response == received  # what the caller saw before the failure is kept


async def test_the_call_page_shows_the_error(openai_server, async_client, django_user_model) -> None:
    await call(openai_server, Reply(text=LONG_TEXT, drop_after_chunks=2), stream=True)
    recorded = await recorded_error()
    user = await django_user_model.objects.acreate_user("viewer", password="viewer-password")
    await async_client.aforce_login(user)

    response = await async_client.get(f"/usage/calls/{recorded.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "LLMProviderUnavailableError" in html and recorded.error_message.split(":")[0] in html
    assert 'class="status-error"' in html
