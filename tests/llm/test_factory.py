from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from llm.providers import (
    AnthropicProvider,
    BaseLLMProvider,
    LLMConfig,
    LLMConfigError,
    LLMRequest,
    LLMResponse,
    MockLLMProvider,
    OpenAICompatibleProvider,
    OpenAIProvider,
    create_llm_provider,
    get_provider_class,
    provider_names,
    register_provider,
    unregister_provider,
)
from llm.providers.streaming import StreamState

pytestmark = pytest.mark.usefixtures("provider_registry")


class EchoProvider(BaseLLMProvider):
    """A provider a deployment might add: answers with the prompt."""

    async def get_available_models(self) -> list[str]:
        return ["echo-1"]

    async def _generate(self, request: LLMRequest) -> LLMResponse:
        return LLMResponse(content=request.prompt, model=self.model, metadata={"provider": self.name})

    async def _stream(self, request: LLMRequest, state: StreamState) -> AsyncGenerator[str]:
        state.started = True
        for word in request.prompt.split():
            yield word


def test_the_built_in_providers_are_registered():
    assert provider_names() == ["anthropic", "mock", "openai", "openai-compatible"]


@pytest.mark.parametrize(
    ("config", "provider_class"),
    [
        (LLMConfig(provider="mock", model="mock-model"), MockLLMProvider),
        (LLMConfig(provider="openai", model="gpt-4o-mini", api_key="k"), OpenAIProvider),
        (LLMConfig(provider="anthropic", model="claude-sonnet-5-5", api_key="k"), AnthropicProvider),
        (
            LLMConfig(provider="openai-compatible", model="llama3.2", base_url="http://localhost:11434/v1"),
            OpenAICompatibleProvider,
        ),
    ],
)
def test_it_creates_the_provider_the_config_names(config, provider_class):
    provider = create_llm_provider(config)
    assert type(provider) is provider_class
    assert provider.config is config
    assert provider.name == config.provider
    assert provider.model == config.model


def test_a_provider_can_be_created_without_a_key_and_fails_only_when_used(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert create_llm_provider(LLMConfig(provider="openai", model="gpt-4o-mini"))


async def test_a_deployment_can_register_its_own_provider():
    register_provider("echo", EchoProvider)
    assert "echo" in provider_names()
    provider = create_llm_provider(LLMConfig(provider="echo", model="echo-1"))
    assert (await provider.generate("hello there")).content == "hello there"
    assert [chunk async for chunk in provider.generate_stream("hello there")] == ["hello", "there"]
    assert await provider.validate() is True


def test_a_provider_can_be_registered_by_dotted_path():
    register_provider("echo", "tests.llm.test_factory.EchoProvider")
    assert get_provider_class("echo") is EchoProvider


def test_a_name_is_taken_until_replaced_and_unregistering_restores_a_built_in():
    with pytest.raises(ValueError, match="registered already"):
        register_provider("openai", EchoProvider)
    register_provider("openai", EchoProvider, replace=True)
    assert get_provider_class("openai") is EchoProvider
    unregister_provider("openai")
    assert get_provider_class("openai") is OpenAIProvider


@pytest.mark.parametrize("name", ["", "Echo", "my provider", "-x"])
def test_provider_names_are_simple(name):
    with pytest.raises(ValueError, match="provider name"):
        register_provider(name, EchoProvider)


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(LLMConfigError, match="unknown provider 'gemini'; known providers: anthropic, mock, openai"):
        get_provider_class("gemini")


def test_a_registration_must_be_a_provider():
    register_provider("broken", "tests.llm.test_factory.pytestmark")
    with pytest.raises(TypeError, match="not a BaseLLMProvider"):
        get_provider_class("broken")


def test_the_setting_can_add_providers(settings):
    settings.CONDUCTOR_LLM_PROVIDERS = {"echo": "tests.llm.test_factory.EchoProvider"}
    assert "echo" in provider_names()
    assert isinstance(create_llm_provider(LLMConfig(provider="echo", model="echo-1")), EchoProvider)
