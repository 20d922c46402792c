"""The provider registry and `create_llm_provider`.

Built-in names: `mock`, `openai`, `anthropic`, `openai-compatible`. A deployment adds its own either in code
(`register_provider("bedrock", "myproject.llm.BedrockProvider")`, e.g. from an AppConfig.ready()) or with
the `CONDUCTOR_LLM_PROVIDERS` setting (`{"bedrock": "myproject.llm.BedrockProvider"}`). Classes may be given
as dotted paths so that naming a provider does not import its SDK.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from llm.providers.errors import LLMConfigError

if TYPE_CHECKING:
    from llm.providers.base import BaseLLMProvider
    from llm.providers.config import LLMConfig

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")

_BUILTIN: dict[str, str] = {
    "mock": "llm.providers.mock.MockLLMProvider",
    "openai": "llm.providers.openai_provider.OpenAIProvider",
    "openai-compatible": "llm.providers.openai_provider.OpenAICompatibleProvider",
    "anthropic": "llm.providers.anthropic_provider.AnthropicProvider",
}
_registry: dict[str, type[BaseLLMProvider] | str] = dict(_BUILTIN)


def _from_settings() -> dict[str, str]:
    from django.conf import settings

    if not settings.configured:
        return {}
    return dict(getattr(settings, "CONDUCTOR_LLM_PROVIDERS", {}))


def register_provider(name: str, provider_class: type[BaseLLMProvider] | str, *, replace: bool = False) -> None:
    """Make `create_llm_provider` build `provider_class` (a class or its dotted path) for `provider=name`."""
    if not _NAME.match(name):
        raise ValueError(f"A provider name is lowercase letters, digits, '.', '_' or '-', not {name!r}.")
    if name in _registry and not replace:
        raise ValueError(f"A provider named {name!r} is registered already; pass replace=True to replace it.")
    _registry[name] = provider_class


def unregister_provider(name: str) -> None:
    """Forget a provider registered with `register_provider`; the built-ins come back as they were."""
    _registry.pop(name, None)
    if name in _BUILTIN:
        _registry[name] = _BUILTIN[name]


def provider_names() -> list[str]:
    """The registered provider names, sorted."""
    return sorted({*_registry, *_from_settings()})


def get_provider_class(name: str) -> type[BaseLLMProvider]:
    from llm.providers.base import BaseLLMProvider

    entry = _registry.get(name) or _from_settings().get(name)
    if entry is None:
        raise LLMConfigError("provider", f"unknown provider {name!r}; known providers: {', '.join(provider_names())}.")
    provider_class = import_string(entry) if isinstance(entry, str) else entry
    if not (isinstance(provider_class, type) and issubclass(provider_class, BaseLLMProvider)):
        raise TypeError(f"Provider {name!r} is registered as {provider_class!r}, which is not a BaseLLMProvider.")
    return provider_class


def create_llm_provider(config: LLMConfig) -> BaseLLMProvider:
    """The provider `config.provider` names, configured with `config`. Does no I/O."""
    return get_provider_class(config.provider)(config)
