"""The LLM provider layer: one async interface over the mock, OpenAI, Anthropic and OpenAI-compatible servers.

from llm.providers import LLMConfig, create_llm_provider

provider = create_llm_provider(LLMConfig(provider="openai", model="gpt-4o-mini", api_key="sk-…"))
response = await provider.generate("Write a function that reverses a string")
"""

from __future__ import annotations

from llm.providers.base import BaseLLMProvider
from llm.providers.config import (
    FINISH_REASONS,
    FinishReason,
    LLMConfig,
    LLMRequest,
    LLMResponse,
    LLMUsage,
)
from llm.providers.errors import (
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMConfigError,
    LLMError,
    LLMProviderUnavailableError,
    LLMRateLimitError,
    LLMTimeoutError,
)
from llm.providers.factory import (
    create_llm_provider,
    get_provider_class,
    provider_names,
    register_provider,
    unregister_provider,
)
from llm.providers.mock import MockLLMProvider
from llm.providers.streaming import LLMStream
from llm.providers.tokens import estimate_tokens


def __getattr__(name: str) -> object:
    # The vendor providers import their SDKs; load them when first asked for.
    if name in ("OpenAIProvider", "OpenAICompatibleProvider"):
        from llm.providers import openai_provider

        return getattr(openai_provider, name)
    if name == "AnthropicProvider":
        from llm.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FINISH_REASONS",
    "AnthropicProvider",
    "BaseLLMProvider",
    "FinishReason",
    "LLMAuthenticationError",
    "LLMBadRequestError",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "LLMProviderUnavailableError",
    "LLMRateLimitError",
    "LLMRequest",
    "LLMResponse",
    "LLMStream",
    "LLMTimeoutError",
    "LLMUsage",
    "MockLLMProvider",
    "OpenAICompatibleProvider",
    "OpenAIProvider",
    "create_llm_provider",
    "estimate_tokens",
    "get_provider_class",
    "provider_names",
    "register_provider",
    "unregister_provider",
]
