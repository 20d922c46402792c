"""`OpenAIProvider` (OpenAI's chat completions API) and `OpenAICompatibleProvider` (Ollama, vLLM, llama.cpp,
LM Studio… any server that speaks it), on the official `openai` SDK's async client."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import openai

from llm.providers.config import FinishReason, LLMRequest, LLMResponse, LLMUsage
from llm.providers.errors import (
    LLMError,
    LLMProviderUnavailableError,
    LLMTimeoutError,
    error_for_status,
    parse_retry_after,
)
from llm.providers.sdk_client import SDKClientProvider
from llm.providers.streaming import StreamState
from llm.providers.tokens import estimate_tokens

# The SDK wraps most transport errors, but not all (e.g. a read timeout in the middle of a stream).
_SDK_ERRORS = (openai.OpenAIError, httpx2.TransportError)

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "error",
}


class OpenAIProvider(SDKClientProvider):
    """OpenAI chat completions through `openai.AsyncOpenAI`.

    The SDK retries 408/409/429/5xx and connection errors `config.max_retries` times with exponential backoff
    (or as long as the server's `retry-after` says); `config.timeout_seconds` bounds each attempt (and each
    wait for the next stream chunk). `tools=` (OpenAI's format) is passed through; the model's tool calls are
    in `metadata["tool_calls"]` as `[{"id", "name", "arguments"}]`. Streams ask for usage at the end
    (`stream_options.include_usage`). Cached prompt tokens land in `usage.cache_read_tokens`.
    """

    provider_name = "openai"
    api_key_env = "OPENAI_API_KEY"
    sdk_errors = _SDK_ERRORS
    # OpenAI's current name for the output limit; reasoning models reject the older `max_tokens`.
    max_tokens_parameter = "max_completion_tokens"

    def _make_client(self, api_key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=api_key,
            base_url=self.config.base_url,
            timeout=self.config.timeout_seconds,
            max_retries=self.config.max_retries,
        )

    def _params(self, request: LLMRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": request.temperature,
            self.max_tokens_parameter: request.max_tokens,
        }
        if request.stop:
            params["stop"] = list(request.stop)
        if request.tools:
            params["tools"] = list(request.tools)
        if request.tool_choice is not None:
            params["tool_choice"] = request.tool_choice
        return params

    async def _generate(self, request: LLMRequest) -> LLMResponse:
        try:
            completion = await self.client.chat.completions.create(**self._params(request))
        except _SDK_ERRORS as exc:
            raise self._error(exc) from exc
        if not completion.choices:
            raise LLMProviderUnavailableError(
                "The server answered without any choice.", provider=self.name, request_id=completion.id
            )
        choice = completion.choices[0]
        message = choice.message
        tool_calls = [
            {"id": call.id, "name": call.function.name, "arguments": call.function.arguments}
            for call in message.tool_calls or ()
            if getattr(call, "function", None) is not None
        ]
        metadata: dict[str, Any] = {
            "provider": self.name,
            "response_id": completion.id,
            "vendor_finish_reason": choice.finish_reason,
        }
        if tool_calls:
            metadata["tool_calls"] = tool_calls
        if completion.system_fingerprint:
            metadata["system_fingerprint"] = completion.system_fingerprint
        if getattr(message, "refusal", None):
            metadata["refusal"] = message.refusal
        usage = self._usage(completion.usage, metadata)
        metadata["usage_source"] = "vendor" if usage is not None else "estimated"
        if usage is None:
            usage = LLMUsage(
                prompt_tokens=estimate_tokens(request.prompt_text),
                completion_tokens=estimate_tokens(message.content or ""),
            )
        return LLMResponse(
            content=message.content or "",
            model=completion.model or self.model,
            usage=usage,
            finish_reason=_FINISH_REASONS.get(choice.finish_reason or "stop", "stop"),
            metadata=metadata,
        )

    async def _stream(self, request: LLMRequest, state: StreamState) -> AsyncGenerator[str]:
        params = self._params(request) | {"stream": True, "stream_options": {"include_usage": True}}
        try:
            stream = await self.client.chat.completions.create(**params)
        except _SDK_ERRORS as exc:
            raise self._error(exc) from exc
        state.started = True
        state.metadata["provider"] = self.name
        calls: dict[int, dict[str, Any]] = {}
        try:
            async for chunk in stream:
                state.metadata["response_id"] = chunk.id
                if chunk.model:
                    state.model = chunk.model
                if chunk.usage is not None:
                    state.usage = self._usage(chunk.usage, state.metadata)
                for choice in chunk.choices[:1]:
                    delta = choice.delta
                    for call in delta.tool_calls or ():
                        entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                        if call.id:
                            entry["id"] = call.id
                        if call.function is not None:
                            entry["name"] += call.function.name or ""
                            entry["arguments"] += call.function.arguments or ""
                        state.tool_calls = [calls[index] for index in sorted(calls)]
                    if choice.finish_reason:
                        state.metadata["vendor_finish_reason"] = choice.finish_reason
                        state.finish_reason = _FINISH_REASONS.get(choice.finish_reason, "stop")
                    if delta.content:
                        yield delta.content
        except _SDK_ERRORS as exc:
            raise self._error(exc) from exc
        finally:
            await stream.close()

    def _usage(self, usage: Any, metadata: dict[str, Any]) -> LLMUsage | None:
        if usage is None:
            return None
        metadata["vendor_usage"] = usage.model_dump(exclude_none=True)
        details = usage.prompt_tokens_details
        return LLMUsage(
            prompt_tokens=usage.prompt_tokens or 0,
            completion_tokens=usage.completion_tokens or 0,
            total_tokens=usage.total_tokens or 0,
            cache_read_tokens=(details.cached_tokens or 0) if details else 0,
            cache_write_tokens=(getattr(details, "cache_write_tokens", None) or 0) if details else 0,
        )

    def _error(self, exc: openai.OpenAIError | httpx2.TransportError) -> LLMError:
        """Our exception for an SDK (or its HTTP library's) exception."""
        if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
            return LLMTimeoutError(
                f"{self.name} did not answer within {self.config.timeout_seconds:g} s "
                f"(after {self.config.max_retries} retries).",
                provider=self.name,
            )
        if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
            return LLMProviderUnavailableError(f"Cannot reach {self.name}: {exc}", provider=self.name)
        if isinstance(exc, openai.APIStatusError):
            detail = exc.body.get("message") if isinstance(exc.body, dict) else None
            return error_for_status(
                exc.status_code,
                f"{self.name} answered {exc.status_code}: {detail or exc.message}",
                provider=self.name,
                request_id=exc.request_id,
                retry_after=parse_retry_after(exc.response.headers),
            )
        if isinstance(exc, openai.APIError):
            # An error event inside a stream that had started fine.
            return LLMProviderUnavailableError(f"{self.name} failed mid-stream: {exc.message}", provider=self.name)
        return LLMProviderUnavailableError(f"{self.name} failed: {exc}", provider=self.name)


class OpenAICompatibleProvider(OpenAIProvider):
    """Any server speaking OpenAI's chat completions API at `config.base_url` (required). The API key is
    optional: local servers ignore it, so a placeholder is sent when there is none. OPENAI_API_KEY is never
    used here — it must not leak to a third-party server."""

    provider_name = "openai-compatible"
    # Ollama, llama.cpp and older vLLM know only the original name.
    max_tokens_parameter = "max_tokens"

    def _api_key(self) -> str | None:
        return self.config.api_key or "not-needed"
