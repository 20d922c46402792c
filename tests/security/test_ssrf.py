"""SSRF through a provider base URL: only an admin sets one, the API never takes one, and link-local and
cloud metadata addresses are refused (in the admin, and again when a provider is made from the row)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from llm.configured import provider_for
from llm.models import LLMCall, ProviderConfig
from llm.provider_urls import UnsafeProviderURLError, check_provider_base_url
from llm.providers import LLMConfigError
from tests.factories import make_provider_config

CONFIG_FORM = {
    "name": "local",
    "provider": "openai-compatible",
    "model": "llama3",
    "enabled": "on",
    "api_key_env": "",
    "temperature": "0.5",
    "max_tokens": "2048",
    "timeout_seconds": "30",
    "max_retries": "2",
    "cache_ttl_seconds": "3600",
    "rate_limit_max_wait_seconds": "30",
}

REFUSED = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://169.254.170.2/v2/credentials",
    "http://169.254.1.1:8080/v1",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]:11434/v1",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.google.internal./computeMetadata/v1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://2852039166/",  # 169.254.169.254 written as one number: only resolving finds it
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",
    "http://user:secret@localhost:11434/v1",
    "http://models.example\\@169.254.169.254/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "ftp://models.example/v1",
]
ALLOWED = [
    "http://localhost:11434/v1",
    "http://127.0.0.1:8000/v1",
    "http://[::1]:8000/v1",
    "http://10.1.2.3:8000/v1",
    "http://192.168.1.20/v1",
    "https://8.8.8.8/v1",
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_check_refuses_link_local_metadata_and_odd_urls(url: str) -> None:
    with pytest.raises(UnsafeProviderURLError):
        check_provider_base_url(url)


@pytest.mark.parametrize("url", ALLOWED)
def test_the_check_allows_loopback_private_and_public_servers(url: str) -> None:
    check_provider_base_url(url)


def test_an_unresolvable_name_passes_and_is_checked_again_at_call_time() -> None:
    check_provider_base_url("http://no-such-host.invalid/v1")


def test_a_setting_allows_link_local_and_metadata_addresses(settings) -> None:
    settings.CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS = True
    check_provider_base_url("http://169.254.10.10:8000/v1")
    check_provider_base_url("http://metadata.google.internal/")
    with pytest.raises(UnsafeProviderURLError):
        check_provider_base_url("file:///etc/passwd")


def test_a_setting_refuses_loopback_and_private_addresses(settings) -> None:
    settings.CONDUCTOR_ALLOW_PRIVATE_PROVIDER_URLS = False
    for url in ("http://localhost:11434/v1", "http://10.1.2.3/v1", "http://[::1]/v1", "http://0.0.0.0:8000/"):
        with pytest.raises(UnsafeProviderURLError, match="CONDUCTOR_ALLOW_PRIVATE_PROVIDER_URLS"):
            check_provider_base_url(url)
    check_provider_base_url("https://8.8.8.8/v1")


@pytest.mark.django_db
@pytest.mark.parametrize("url", REFUSED)
def test_the_admin_form_refuses_the_url_and_saves_nothing(admin_client, url: str) -> None:
    response = admin_client.post(reverse("admin:llm_providerconfig_add"), {**CONFIG_FORM, "base_url": url})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["base_url"]
    assert not ProviderConfig.objects.filter(name="local").exists()


@pytest.mark.django_db
def test_the_admin_form_says_why_a_metadata_address_is_refused(admin_client) -> None:
    response = admin_client.post(
        reverse("admin:llm_providerconfig_add"), {**CONFIG_FORM, "base_url": "http://169.254.169.254/"}
    )
    [message] = response.context["adminform"].form.errors["base_url"]
    assert "cloud metadata address" in message and "CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS" in message


@pytest.mark.django_db
def test_the_admin_form_takes_a_local_model_server(admin_client) -> None:
    response = admin_client.post(
        reverse("admin:llm_providerconfig_add"), {**CONFIG_FORM, "base_url": "http://localhost:11434/v1"}
    )
    assert response.status_code == 302
    assert ProviderConfig.objects.get(name="local").base_url == "http://localhost:11434/v1"


@pytest.mark.django_db
def test_the_model_validation_refuses_it_outside_the_admin_too() -> None:
    config = ProviderConfig(name="x", provider="openai-compatible", model="m", base_url="http://169.254.169.254/")
    with pytest.raises(Exception, match="cloud metadata address") as caught:
        config.full_clean()
    assert "base_url" in caught.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://2852039166/", "http://[fe80::1]/v1"])
def test_a_row_edited_in_the_database_is_refused_when_a_provider_is_made(url: str) -> None:
    config = make_provider_config(name="edited", provider="openai-compatible", model="m", base_url="http://localhost/")
    ProviderConfig.objects.filter(pk=config.pk).update(base_url=url)
    with pytest.raises(LLMConfigError, match="base_url: provider config 'edited'"):
        provider_for("edited")
    assert not LLMCall.objects.exists()


@pytest.mark.django_db
def test_a_local_server_url_still_makes_a_provider() -> None:
    make_provider_config(name="ollama", provider="openai-compatible", model="m", base_url="http://localhost:11434/v1")
    assert provider_for("ollama") is not None


# The API: no operation accepts a base URL (checked on the schema, so routers added later are covered).


@pytest.mark.django_db(transaction=True)
def test_no_api_request_body_has_a_base_url_or_takes_unknown_fields(api) -> None:
    schema = api.get("/api/openapi.json").json()
    components = schema.get("components", {}).get("schemas", {})

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        return node

    bodies = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            for media in operation["requestBody"]["content"].values():
                body = resolve(media["schema"])
                bodies += 1
                assert "base_url" not in body.get("properties", {}), (method, path)
                assert body.get("additionalProperties") is False, (method, path)
    assert bodies >= 2


@pytest.mark.django_db(transaction=True)
def test_every_api_write_refuses_a_base_url_field(api) -> None:
    schema = api.get("/api/openapi.json").json()
    writes = [
        path
        for path, operations in schema["paths"].items()
        if "post" in operations and "{" not in path and "requestBody" in operations["post"]
    ]
    assert "/api/artifacts" in writes
    for path in writes:
        response = api.post(path, json={"base_url": "http://169.254.169.254/latest/meta-data/"})
        assert response.status_code == 422, (path, response.text)
        assert "base_url" in response.text
