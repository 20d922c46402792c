"""The admin: keys go in, only a masked hint comes out; the call ledger is browsable and read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from llm.models import LLMCall, ProviderConfig
from tests.factories import make_llm_call, make_provider_config

pytestmark = pytest.mark.django_db

RAW_KEY = "sk-ant-api03-SECRETsecretSECRETsecret-9f8e7d6c"
ENV_KEY_VALUE = "sk-from-the-environment-0123456789abcdef"

CONFIG_FORM = {
    "name": "claude",
    "provider": "anthropic",
    "model": "claude-sonnet-4-5",
    "base_url": "",
    "enabled": "on",
    "api_key_env": "",
    "temperature": "0.5",
    "max_tokens": "2048",
    "timeout_seconds": "30",
    "max_retries": "2",
    "cache_ttl_seconds": "3600",
    "rate_limit_max_wait_seconds": "30",
}


def assert_no_secret(html: str, config: ProviderConfig | None = None) -> None:
    assert RAW_KEY not in html
    assert RAW_KEY[4:-4] not in html
    assert ENV_KEY_VALUE not in html
    if config is not None and config.api_key_encrypted:
        assert config.api_key_encrypted not in html


@pytest.fixture
def stored(admin_client) -> ProviderConfig:
    response = admin_client.post(reverse("admin:llm_providerconfig_add"), {**CONFIG_FORM, "api_key": RAW_KEY})
    assert response.status_code == 302, response.content.decode()[:3000]
    return ProviderConfig.objects.get(name="claude")


def test_a_pasted_key_is_stored_encrypted_and_shown_only_as_a_hint(admin_client, stored) -> None:
    assert stored.resolve_api_key() == RAW_KEY
    assert RAW_KEY not in stored.api_key_encrypted
    for url in (
        reverse("admin:llm_providerconfig_changelist"),
        reverse("admin:llm_providerconfig_change", args=[stored.pk]),
    ):
        html = admin_client.get(url).content.decode()
        assert "sk-…7d6c" in html
        assert_no_secret(html, stored)


def test_saving_without_a_key_keeps_the_stored_one(admin_client, stored) -> None:
    url = reverse("admin:llm_providerconfig_change", args=[stored.pk])
    assert admin_client.post(url, {**CONFIG_FORM, "model": "claude-haiku-4-5"}).status_code == 302
    stored.refresh_from_db()
    assert (stored.model, stored.resolve_api_key()) == ("claude-haiku-4-5", RAW_KEY)


def test_the_stored_key_can_be_removed_and_replaced_by_an_environment_variable(admin_client, stored) -> None:
    url = reverse("admin:llm_providerconfig_change", args=[stored.pk])
    refused = admin_client.post(url, {**CONFIG_FORM, "api_key_env": "ANTHROPIC_API_KEY"})
    assert refused.status_code == 200 and "Remove the stored key" in refused.content.decode()
    form = {**CONFIG_FORM, "api_key_env": "ANTHROPIC_API_KEY", "clear_api_key": "on"}
    assert admin_client.post(url, form).status_code == 302
    stored.refresh_from_db()
    assert (stored.api_key_encrypted, stored.api_key_hint, stored.api_key_env) == ("", "", "ANTHROPIC_API_KEY")


def test_a_key_and_an_environment_variable_together_are_refused(admin_client) -> None:
    form = {**CONFIG_FORM, "api_key": RAW_KEY, "api_key_env": "ANTHROPIC_API_KEY"}
    response = admin_client.post(reverse("admin:llm_providerconfig_add"), form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "not both" in html
    assert_no_secret(html)  # the password field is not echoed back
    assert not ProviderConfig.objects.filter(name="claude").exists()


def test_an_environment_key_is_named_never_shown(admin_client, monkeypatch) -> None:
    monkeypatch.setenv("CONDUCTOR_TEST_KEY", ENV_KEY_VALUE)
    config = make_provider_config(name="envkey", provider="openai", model="gpt-4o", api_key_env="CONDUCTOR_TEST_KEY")
    for url in (
        reverse("admin:llm_providerconfig_changelist"),
        reverse("admin:llm_providerconfig_change", args=[config.pk]),
    ):
        html = admin_client.get(url).content.decode()
        assert "CONDUCTOR_TEST_KEY" in html
        assert_no_secret(html)


def test_openai_compatible_needs_a_base_url(admin_client) -> None:
    form = {**CONFIG_FORM, "name": "ollama", "provider": "openai-compatible", "model": "llama3.1"}
    response = admin_client.post(reverse("admin:llm_providerconfig_add"), form)
    assert response.status_code == 200 and "base URL" in response.content.decode()


def test_the_call_list_shows_tokens_and_cost_and_filters(admin_client, stored) -> None:
    make_llm_call(config=stored, config_name="claude", agent_id="coder", total_tokens=1234, cost_usd=Decimal("0.0125"))
    make_llm_call(config=stored, config_name="claude", agent_id="tester", cost_usd=None, status="error")
    url = reverse("admin:llm_llmcall_changelist")
    html = admin_client.get(url).content.decode()
    assert "1234" in html and "$0.0125" in html and "unknown" in html
    assert_no_secret(html, stored)
    for query in (
        "status=error",
        "agent_id=coder",
        "workflow_id=wf-1",
        "provider=mock",
        "model=mock-model",
        "streamed__exact=0",
        "created_at__gte=2026-01-01+00%3A00%3A00%2B00%3A00",
        "q=coder",
    ):
        response = admin_client.get(f"{url}?{query}")
        assert response.status_code == 200, query
    filtered = admin_client.get(f"{url}?agent_id=tester").content.decode()
    assert "unknown" in filtered and "$0.0125" not in filtered


def test_a_call_page_is_read_only_and_shows_no_key(admin_client, stored) -> None:
    call = make_llm_call(config=stored, prompt="Explain <b>caching</b>", response="It stores answers")
    html = admin_client.get(reverse("admin:llm_llmcall_change", args=[call.pk])).content.decode()
    assert "Explain &lt;b&gt;caching&lt;/b&gt;" in html and "It stores answers" in html
    assert 'name="_save"' not in html
    assert_no_secret(html, stored)
    assert admin_client.get(reverse("admin:llm_llmcall_add")).status_code == 403
    assert LLMCall.objects.count() == 1
