"""What the vendor providers share: an official SDK's async client, made on first use, and its model list."""

from __future__ import annotations

import os
from abc import abstractmethod
from typing import Any, ClassVar

from llm.providers.base import BaseLLMProvider
from llm.providers.config import LLMConfig
from llm.providers.errors import LLMAuthenticationError, LLMError


class SDKClientProvider(BaseLLMProvider):
    """A provider backed by a vendor SDK client. Subclasses say how to make the client and map its errors."""

    api_key_env: ClassVar[str]
    sdk_errors: ClassVar[tuple[type[BaseException], ...]]

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(config)
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The SDK client, made on first use (so a provider without a key can exist, and fail on use)."""
        if self._client is None:
            api_key = self._api_key()
            if api_key is None:
                raise LLMAuthenticationError(
                    f"No API key for {self.name}: set LLMConfig.api_key or {self.api_key_env}.", provider=self.name
                )
            self._client = self._make_client(api_key)
        return self._client

    def _api_key(self) -> str | None:
        return self.config.api_key or os.environ.get(self.api_key_env) or None

    @abstractmethod
    def _make_client(self, api_key: str) -> Any: ...

    @abstractmethod
    def _error(self, exc: BaseException) -> LLMError:
        """Our error for an SDK or transport exception (the SDK's never leak out)."""

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def get_available_models(self) -> list[str]:
        try:
            return sorted([model.id async for model in self.client.models.list()])
        except self.sdk_errors as exc:
            raise self._error(exc) from exc
