"""`MockLLMProvider`: a scripted provider for tests, demos and development. No network."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncGenerator, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from llm.providers.base import BaseLLMProvider
from llm.providers.config import FinishReason, LLMConfig, LLMRequest, LLMResponse, LLMUsage
from llm.providers.errors import LLMConfigError, LLMError, LLMProviderUnavailableError
from llm.providers.mock_content import default_response
from llm.providers.streaming import StreamState
from llm.providers.tokens import CHARS_PER_TOKEN, estimate_tokens

MOCK_MODELS = ("mock-model", "mock-model-large")
_WORD_CHUNKS = re.compile(r"\S+\s*|\s+")

QueuedItem = str | LLMResponse | LLMError


def word_chunks(text: str) -> list[str]:
    """`text` in word-sized pieces (each word with the whitespace after it); they join back to `text`."""
    return _WORD_CHUNKS.findall(text)


class MockLLMProvider(BaseLLMProvider):
    """Answers from a queue, else with a default that fits the prompt (see mock_content).

        provider = MockLLMProvider()
        provider.queue_response("Mocked code output")
        response = await provider.generate("Write code")
        assert response.content == "Mocked code output"

    - `queue_response(item)` / `queue_responses(items)`: answered first in, first out. An item is a string
      (the content), a whole `LLMResponse` (returned as is, e.g. to script tool calls), or an `LLMError`
      instance (raised by that call).
    - `default_response`: the answer when the queue is empty; without it, a realistic work product of the
      artifact type the prompt asks for (`metadata["artifact_type"]`).
    - `simulate_failure(message, error=LLMProviderUnavailableError, times=None)`: following calls raise
      (only the next `times` calls, if given); `reset_failure()` stops it.
    - `call_history`: one dict per call — `method`, `prompt`, `system`, `kwargs` (the overrides given),
      `created_at`; `clear_history()` empties it.
    - Usage is estimated from text length (4 characters a token); `max_tokens` truncates the content
      (`finish_reason="length"`) and `stop` cuts it at the first stop sequence, as a real model would.
    - Streaming yields word-sized chunks, waiting `stream_delay_seconds` (constructor, or
      `config.options["stream_delay_seconds"]`) before each one, so a stream can be watched at a known pace.
    """

    provider_name = "mock"

    def __init__(
        self,
        config: LLMConfig | None = None,
        default_response: str | None = None,
        *,
        stream_delay_seconds: float | None = None,
    ) -> None:
        super().__init__(config or LLMConfig(provider="mock", model=MOCK_MODELS[0]))
        self.default_response = default_response
        if stream_delay_seconds is None:
            stream_delay_seconds = self.config.options.get("stream_delay_seconds", 0.0)
        if not isinstance(stream_delay_seconds, int | float) or stream_delay_seconds < 0:
            raise LLMConfigError("stream_delay_seconds", f"must be a number ≥ 0, not {stream_delay_seconds!r}.")
        self.stream_delay_seconds = float(stream_delay_seconds)
        self.call_history: list[dict[str, Any]] = []
        self._queue: deque[QueuedItem] = deque()
        self._failure: tuple[str, type[LLMError]] | None = None
        self._failures_left: int | None = None

    # Scripting

    def queue_response(self, response: QueuedItem) -> None:
        if not isinstance(response, str | LLMResponse | LLMError):
            raise TypeError(f"Queue a str, an LLMResponse or an LLMError, not {type(response).__name__}.")
        self._queue.append(response)

    def queue_responses(self, responses: Iterable[QueuedItem]) -> None:
        for response in responses:
            self.queue_response(response)

    @property
    def queued(self) -> int:
        """How many queued answers are left."""
        return len(self._queue)

    def simulate_failure(
        self,
        message: str = "Simulated failure",
        error: type[LLMError] = LLMProviderUnavailableError,
        *,
        times: int | None = None,
    ) -> None:
        self._failure = (message, error)
        self._failures_left = times

    def reset_failure(self) -> None:
        self._failure = None
        self._failures_left = None

    def clear_history(self) -> None:
        self.call_history.clear()

    # The interface

    async def get_available_models(self) -> list[str]:
        self._raise_simulated_failure()
        return sorted({*MOCK_MODELS, self.model})

    async def _generate(self, request: LLMRequest) -> LLMResponse:
        self._record("generate", request)
        return self._answer(request)

    async def _stream(self, request: LLMRequest, state: StreamState) -> AsyncGenerator[str]:
        self._record("generate_stream", request)
        response = self._answer(request)
        state.started = True
        state.prompt_tokens = response.usage.prompt_tokens
        for chunk in word_chunks(response.content):
            await asyncio.sleep(self.stream_delay_seconds)
            yield chunk
        state.model = response.model
        state.finish_reason = response.finish_reason
        state.tool_calls = list(response.metadata.get("tool_calls", []))
        state.metadata.update({k: v for k, v in response.metadata.items() if k not in ("tool_calls", "usage_source")})
        state.usage = response.usage
        state.usage_source = response.metadata.get("usage_source", "estimated")

    # Internals

    def _record(self, method: str, request: LLMRequest) -> None:
        self.call_history.append(
            {
                "method": method,
                "prompt": request.prompt,
                "system": request.system,
                "kwargs": {name: value for name, value in request.overrides.items() if name != "system"},
                "created_at": datetime.now(UTC),
            }
        )

    def _raise_simulated_failure(self) -> None:
        if self._failure is None:
            return
        message, error = self._failure
        if self._failures_left is not None:
            self._failures_left -= 1
            if self._failures_left <= 0:
                self.reset_failure()
        raise error(message, provider=self.name)

    def _answer(self, request: LLMRequest) -> LLMResponse:
        self._raise_simulated_failure()
        artifact_type: str | None = None
        if self._queue:
            item = self._queue.popleft()
            if isinstance(item, LLMError):
                raise item
            if isinstance(item, LLMResponse):
                return replace(item, metadata=dict(item.metadata))
            content = item
        elif self.default_response is not None:
            content = self.default_response
        else:
            content, artifact_type = default_response(request.prompt, system=request.system)
        content, finish_reason = _apply_limits(content, request)
        metadata: dict[str, Any] = {"provider": self.name, "usage_source": "estimated"}
        if artifact_type is not None:
            metadata["artifact_type"] = artifact_type
        return LLMResponse(
            content=content,
            model=self.model,
            usage=LLMUsage(
                prompt_tokens=estimate_tokens(request.prompt_text), completion_tokens=estimate_tokens(content)
            ),
            finish_reason=finish_reason,
            metadata=metadata,
        )


def _apply_limits(content: str, request: LLMRequest) -> tuple[str, FinishReason]:
    """Cut at the first stop sequence, then at max_tokens, as a model would."""
    cuts = [index for stop in request.stop if (index := content.find(stop)) >= 0]
    if cuts:
        content = content[: min(cuts)]
    if estimate_tokens(content) > request.max_tokens:
        return content[: request.max_tokens * CHARS_PER_TOKEN], "length"
    return content, "stop"
