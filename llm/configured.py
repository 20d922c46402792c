"""`provider_for(name)`: a `ProviderConfig` from the admin, turned into a ready, recorded provider.

    provider = await aprovider_for("default", agent_id="coder")   # in async code
    provider = provider_for("default", agent_id="coder")          # in sync code
    response = await provider.generate("Write a parser", workflow_id="wf-7")

The config is read once, when the provider is made: a long-lived agent picks up admin edits by
asking for a new provider.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from llm.models import ProviderConfig
from llm.provider_urls import UnsafeProviderURLError, check_provider_base_url
from llm.providers import LLMConfig, LLMConfigError, create_llm_provider
from llm.recording import Attribution, RecordingProvider


class ProviderConfigNotFound(LookupError):
    """No provider config has that name."""


class ProviderConfigDisabled(LookupError):
    """The provider config exists but is switched off in the admin."""


def provider_for(
    name: str, *, agent_id: str | None = None, workflow_id: str | None = None, task_id: str | None = None
) -> RecordingProvider:
    """The provider configured as `name`, recording every call (attributed to the given ids by default)."""
    config = _enabled_config(name)
    return wrap_config(
        config, attribution=Attribution(agent_id=agent_id or "", workflow_id=workflow_id or "", task_id=task_id or "")
    )


async def aprovider_for(
    name: str, *, agent_id: str | None = None, workflow_id: str | None = None, task_id: str | None = None
) -> RecordingProvider:
    """`provider_for` for async code."""
    return await sync_to_async(provider_for)(name, agent_id=agent_id, workflow_id=workflow_id, task_id=task_id)


def wrap_config(config: ProviderConfig, *, attribution: Attribution | None = None) -> RecordingProvider:
    """A recorded provider for a config already loaded (raises LLMConfigError for an invalid config)."""
    return RecordingProvider(create_llm_provider(llm_config(config)), config=config, attribution=attribution)


def llm_config(config: ProviderConfig) -> LLMConfig:
    """The provider layer's `LLMConfig` for a stored config, with its API key resolved.

    The base URL is checked again here, not only in the admin, so a row edited in the database cannot
    point a provider at a metadata service (raises LLMConfigError).
    """
    if config.base_url:
        try:
            check_provider_base_url(config.base_url)
        except UnsafeProviderURLError as exc:
            raise LLMConfigError("base_url", f"provider config {config.name!r}: {exc}") from None
    return LLMConfig(
        provider=config.provider,
        model=config.model,
        api_key=config.resolve_api_key(),
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        timeout_seconds=config.timeout_seconds,
        base_url=config.base_url or None,
        max_retries=config.max_retries,
        options=dict(config.options) if isinstance(config.options, dict) else {},
    )


def _enabled_config(name: str) -> ProviderConfig:
    try:
        config = ProviderConfig.objects.get(name=name)
    except ProviderConfig.DoesNotExist:
        known = ", ".join(ProviderConfig.objects.filter(enabled=True).values_list("name", flat=True)) or "none"
        raise ProviderConfigNotFound(f"No provider config named {name!r}; enabled configs: {known}.") from None
    if not config.enabled:
        raise ProviderConfigDisabled(f"Provider config {name!r} is disabled; enable it in the admin.")
    return config
