"""`BaseLLMProvider`: the async interface agents are given, whatever the vendor behind it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from typing import Any, ClassVar, Self

from llm.providers.config import LLMConfig, LLMRequest, LLMResponse, build_request
from llm.providers.errors import LLMError
from llm.providers.streaming import LLMStream, StreamState


class BaseLLMProvider(ABC):
    """One configured model of one provider.

    Every call takes keyword overrides of the config for that call only: `temperature`, `max_tokens`,
    `stop` (a string or a list), `system`, `tools` and `tool_choice` (in the vendor's own format, passed
    through). Any other keyword raises TypeError.

    To add a provider, subclass this, implement `_generate`, `_stream` and `get_available_models`, map
    the vendor's exceptions to `llm.providers.errors`, and `register_provider(name, cls)`.
    """

    provider_name: ClassVar[str] = ""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.last_response: LLMResponse | None = None
        """The latest response of this provider (a convenience for single-task use; concurrent callers
        should use the return value of `generate`, or `LLMStream.response`)."""

    @property
    def model(self) -> str:
        return self.config.model

    @property
    def temperature(self) -> float:
        return self.config.temperature

    @property
    def max_tokens(self) -> int:
        return self.config.max_tokens

    @property
    def name(self) -> str:
        """The registered provider name this instance was configured with (`openai-compatible`, …)."""
        return self.config.provider

    async def generate(self, prompt: str, **kwargs: Any) -> LLMResponse:
        """Complete `prompt` (a user message); `system=` sets a system prompt."""
        response = await self._generate(build_request(self.config, prompt, kwargs))
        self.last_response = response
        return response

    async def generate_with_system(self, system: str, user: str, **kwargs: Any) -> LLMResponse:
        """Complete `user` under the system prompt `system`."""
        return await self.generate(user, system=system, **kwargs)

    def generate_stream(self, prompt: str, **kwargs: Any) -> LLMStream:
        """Stream the completion of `prompt` as text chunks. Not a coroutine: iterate the result.

        The returned `LLMStream` holds the complete `LLMResponse` (usage included) as `.response` once it is
        exhausted, fails, or is closed early with `aclose()` — see LLMStream.
        """
        request = build_request(self.config, prompt, kwargs)
        stream = LLMStream(
            lambda state: self._stream(request, state), request=request, provider_name=self.name, model=self.model
        )
        stream.add_finish_callback(self._remember)
        return stream

    def _remember(self, response: LLMResponse) -> None:
        self.last_response = response

    async def validate(self) -> bool:
        """Whether the provider answers with these credentials (asks the vendor's models endpoint).

        Never raises for vendor trouble: False means "not usable right now".
        """
        try:
            await self.get_available_models()
        except LLMError:
            return False
        return True

    @abstractmethod
    async def get_available_models(self) -> list[str]:
        """Model ids this provider offers (sorted)."""

    @abstractmethod
    async def _generate(self, request: LLMRequest) -> LLMResponse: ...

    @abstractmethod
    def _stream(self, request: LLMRequest, state: StreamState) -> AsyncGenerator[str]:
        """An async generator of text chunks that records what it learns (usage, finish reason) in `state`."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook; providers without connections keep it
        """Release the HTTP connections (if any)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}/{self.model}>"
