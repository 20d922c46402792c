from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from llm.providers import (
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMConfig,
    LLMConfigError,
    LLMError,
    LLMProviderUnavailableError,
    LLMRateLimitError,
    LLMResponse,
    LLMTimeoutError,
    LLMUsage,
)
from llm.providers.config import build_request
from llm.providers.errors import error_for_status, parse_retry_after


def test_it_has_the_seed_defaults():
    config = LLMConfig(provider="openai", model="gpt-4o-mini")
    assert config.api_key is None
    assert config.temperature == 0.7
    assert config.max_tokens == 4096
    assert config.timeout_seconds == 60
    assert config.base_url is None
    assert config.max_retries == 2


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("temperature", -0.1, "from 0 to 2"),
        ("temperature", 2.5, "from 0 to 2"),
        ("temperature", "hot", "from 0 to 2"),
        ("max_tokens", 0, "greater than 0"),
        ("max_tokens", -5, "greater than 0"),
        ("max_tokens", 1.5, "whole number"),
        ("timeout_seconds", 0, "greater than 0"),
        ("timeout_seconds", -1, "greater than 0"),
        ("max_retries", -1, "from 0 to 10"),
        ("max_retries", 11, "from 0 to 10"),
        ("base_url", "localhost:11434", "http:// or https://"),
        ("model", "", "non-empty"),
    ],
)
def test_it_rejects_out_of_range_values_naming_the_field_and_what_is_allowed(field, value, allowed):
    with pytest.raises(LLMConfigError) as caught:
        LLMConfig(**({"provider": "openai", "model": "gpt-4o-mini"} | {field: value}))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}:")
    assert allowed in str(caught.value)


def test_an_unknown_provider_lists_the_known_ones():
    with pytest.raises(LLMConfigError, match="provider: unknown provider 'gemini'") as caught:
        LLMConfig(provider="gemini", model="x")
    for name in ("anthropic", "mock", "openai", "openai-compatible"):
        assert name in str(caught.value)


def test_openai_compatible_requires_a_base_url():
    with pytest.raises(LLMConfigError, match="base_url: is required"):
        LLMConfig(provider="openai-compatible", model="llama3.2")
    assert LLMConfig(provider="openai-compatible", model="llama3.2", base_url="http://localhost:11434/v1")


def test_config_errors_are_value_errors_and_llm_errors():
    with pytest.raises(ValueError):
        LLMConfig(provider="openai", model="x", temperature=3)
    with pytest.raises(LLMError):
        LLMConfig(provider="openai", model="x", temperature=3)


@pytest.mark.parametrize("render", [repr, str, lambda config: f"{config}", lambda config: str([config])])
def test_the_api_key_never_shows_when_a_config_is_printed(render):
    config = LLMConfig(provider="openai", model="gpt-4o-mini", api_key="sk-very-secret-123")
    text = render(config)
    assert "sk-very-secret-123" not in text
    assert "api_key='***'" in text
    assert "gpt-4o-mini" in text


def test_an_empty_api_key_means_none():
    assert LLMConfig(provider="openai", model="x", api_key="").api_key is None


def test_replace_validates_again():
    config = LLMConfig(provider="mock", model="mock-model")
    assert config.replace(temperature=0.1).temperature == 0.1
    with pytest.raises(LLMConfigError, match="temperature"):
        config.replace(temperature=9)


def test_usage_totals_itself_and_adds_up():
    usage = LLMUsage(prompt_tokens=10, completion_tokens=5, cache_read_tokens=4)
    assert usage.total_tokens == 15
    assert usage + LLMUsage(prompt_tokens=1, completion_tokens=1, cache_write_tokens=2) == LLMUsage(
        prompt_tokens=11, completion_tokens=6, total_tokens=17, cache_read_tokens=4, cache_write_tokens=2
    )


def test_a_response_is_created_now_in_utc():
    response = LLMResponse(content="hi", model="m")
    assert response.created_at.tzinfo is not None
    assert abs(response.created_at - datetime.now(UTC)) < timedelta(seconds=5)
    assert response.usage == LLMUsage()


def test_a_response_allows_only_the_four_finish_reasons():
    for reason in ("stop", "length", "error", "tool_calls"):
        assert LLMResponse(content="", model="m", finish_reason=reason).finish_reason == reason
    with pytest.raises(ValueError, match="finish_reason"):
        LLMResponse(content="", model="m", finish_reason="end_turn")  # type: ignore[arg-type]


def test_per_call_overrides_replace_the_config_defaults():
    config = LLMConfig(provider="mock", model="mock-model")
    request = build_request(config, "hi", {"temperature": 0, "max_tokens": 5, "stop": "END", "system": "Be brief"})
    assert (request.temperature, request.max_tokens, request.stop, request.system) == (0.0, 5, ("END",), "Be brief")
    assert request.prompt_text == "Be brief\n\nhi"


def test_unknown_keyword_arguments_are_rejected():
    config = LLMConfig(provider="mock", model="mock-model")
    with pytest.raises(TypeError, match="top_p.*allowed: max_tokens, stop, system, temperature"):
        build_request(config, "hi", {"top_p": 0.9})


@pytest.mark.parametrize("overrides", [{"temperature": 5}, {"max_tokens": 0}, {"stop": [""]}, {"system": 3}])
def test_out_of_range_overrides_are_bad_requests(overrides):
    config = LLMConfig(provider="mock", model="mock-model")
    with pytest.raises(LLMBadRequestError):
        build_request(config, "hi", overrides)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, LLMBadRequestError),
        (401, LLMAuthenticationError),
        (403, LLMAuthenticationError),
        (404, LLMBadRequestError),
        (408, LLMTimeoutError),
        (422, LLMBadRequestError),
        (429, LLMRateLimitError),
        (500, LLMProviderUnavailableError),
        (503, LLMProviderUnavailableError),
        (529, LLMProviderUnavailableError),
    ],
)
def test_http_statuses_map_to_the_hierarchy(status, error_class):
    error = error_for_status(status, "boom", provider="openai", request_id="req_1", retry_after=3)
    assert type(error) is error_class
    assert (error.status_code, error.provider, error.request_id) == (status, "openai", "req_1")
    assert error.retryable == (error_class in (LLMRateLimitError, LLMTimeoutError, LLMProviderUnavailableError))


def test_retry_after_is_read_from_milliseconds_seconds_or_a_date():
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "7"}) == 7
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    in_a_minute = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 55 < parse_retry_after({"retry-after": in_a_minute}) <= 60
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
