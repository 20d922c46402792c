"""`AnthropicProvider`: Claude through the official `anthropic` SDK's async client (the Messages API)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import anthropic
import httpx2

from llm.providers.config import FinishReason, LLMRequest, LLMResponse, LLMUsage
from llm.providers.errors import (
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMError,
    LLMProviderUnavailableError,
    LLMRateLimitError,
    LLMTimeoutError,
    error_for_status,
    parse_retry_after,
)
from llm.providers.sdk_client import SDKClientProvider
from llm.providers.streaming import StreamState

# The SDK wraps most transport errors, but not all (e.g. a read timeout in the middle of a stream).
_SDK_ERRORS = (anthropic.AnthropicError, httpx2.TransportError)

_FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "error",
}

# Anthropic's error types (the `error.type` of a body or of a mid-stream `error` event).
_ERROR_TYPES: dict[str, type[LLMError]] = {
    "invalid_request_error": LLMBadRequestError,
    "not_found_error": LLMBadRequestError,
    "request_too_large": LLMBadRequestError,
    "authentication_error": LLMAuthenticationError,
    "permission_error": LLMAuthenticationError,
    "rate_limit_error": LLMRateLimitError,
    "timeout_error": LLMTimeoutError,
    "api_error": LLMProviderUnavailableError,
    "overloaded_error": LLMProviderUnavailableError,
}


class AnthropicProvider(SDKClientProvider):
    """Claude models through `anthropic.AsyncAnthropic`.

    `max_tokens` is always sent (the API requires it). `temperature` is not: the Messages API version the SDK
    speaks (2026-10-21) has no sampling parameters and answers 400 to any, so it is accepted here for a
    uniform interface and ignored. The system prompt is the API's top-level `system`; `stop` becomes
    `stop_sequences`; `tools=` (Anthropic's format) is passed through and `tool_use` blocks land in
    `metadata["tool_calls"]` as `[{"id", "name", "arguments"}]` (arguments as a JSON string, as with OpenAI).
    `usage.prompt_tokens` counts all input: input + cache read + cache creation; the two cache counts are also
    in `cache_read_tokens` / `cache_write_tokens`. Retries and timeouts as for OpenAIProvider; an
    `overloaded_error` (529) is retried by the SDK and ends as LLMProviderUnavailableError.
    """

    provider_name = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"
    sdk_errors = _SDK_ERRORS

    def _make_client(self, api_key: str) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=self.config.base_url,
            timeout=self.config.timeout_seconds,
            max_retries=self.config.max_retries,
        )

    def _params(self, request: LLMRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": "user", "content": request.prompt}],
        }
        if request.system:
            params["system"] = request.system
        if request.stop:
            params["stop_sequences"] = list(request.stop)
        if request.tools:
            params["tools"] = list(request.tools)
        if request.tool_choice is not None:
            params["tool_choice"] = request.tool_choice
        return params

    async def _generate(self, request: LLMRequest) -> LLMResponse:
        try:
            message = await self.client.messages.create(**self._params(request))
        except _SDK_ERRORS as exc:
            raise self._error(exc) from exc
        texts: list[str] = []
        tool_calls: list[dict[str, Any]] = []
        for block in message.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                tool_calls.append({"id": block.id, "name": block.name, "arguments": json.dumps(block.input)})
        metadata: dict[str, Any] = {
            "provider": self.name,
            "response_id": message.id,
            "vendor_finish_reason": message.stop_reason,
            "usage_source": "vendor",
        }
        if tool_calls:
            metadata["tool_calls"] = tool_calls
        if message.stop_sequence:
            metadata["stop_sequence"] = message.stop_sequence
        vendor_usage = message.usage.model_dump(exclude_none=True)
        metadata["vendor_usage"] = vendor_usage
        return LLMResponse(
            content="".join(texts),
            model=message.model or self.model,
            usage=_usage(vendor_usage),
            finish_reason=_FINISH_REASONS.get(message.stop_reason or "end_turn", "stop"),
            metadata=metadata,
        )

    async def _stream(self, request: LLMRequest, state: StreamState) -> AsyncGenerator[str]:
        try:
            stream = await self.client.messages.create(**self._params(request), stream=True)
        except _SDK_ERRORS as exc:
            raise self._error(exc) from exc
        state.started = True
        state.metadata["provider"] = self.name
        vendor_usage: dict[str, Any] = {}
        calls: dict[int, dict[str, Any]] = {}
        try:
            async for event in stream:
                if event.type == "message_start":
                    state.metadata["response_id"] = event.message.id
                    state.model = event.message.model or state.model
                    vendor_usage.update(event.message.usage.model_dump(exclude_none=True))
                    state.prompt_tokens = _usage(vendor_usage).prompt_tokens
                elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                    block = event.content_block
                    calls[event.index] = {"id": block.id, "name": block.name, "arguments": ""}
                    state.tool_calls = list(calls.values())
                elif event.type == "content_block_delta":
                    if event.delta.type == "text_delta":
                        yield event.delta.text
                    elif event.delta.type == "input_json_delta" and event.index in calls:
                        calls[event.index]["arguments"] += event.delta.partial_json
                elif event.type == "content_block_stop" and event.index in calls:
                    calls[event.index]["arguments"] = calls[event.index]["arguments"] or "{}"
                elif event.type == "message_delta":
                    vendor_usage.update(event.usage.model_dump(exclude_none=True))
                    stop_reason = event.delta.stop_reason
                    state.metadata["vendor_finish_reason"] = stop_reason
                    state.finish_reason = _FINISH_REASONS.get(stop_reason or "end_turn", "stop")
                    if event.delta.stop_sequence:
                        state.metadata["stop_sequence"] = event.delta.stop_sequence
                    state.metadata["vendor_usage"] = dict(vendor_usage)
                    state.usage = _usage(vendor_usage)
        except _SDK_ERRORS as exc:
            raise self._error(exc) from exc
        finally:
            await stream.close()

    def _error(self, exc: anthropic.AnthropicError | httpx2.TransportError) -> LLMError:
        """Our exception for an SDK (or its HTTP library's) exception."""
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            return LLMTimeoutError(
                f"{self.name} did not answer within {self.config.timeout_seconds:g} s "
                f"(after {self.config.max_retries} retries).",
                provider=self.name,
            )
        if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
            return LLMProviderUnavailableError(f"Cannot reach {self.name}: {exc}", provider=self.name)
        if isinstance(exc, anthropic.APIStatusError):
            detail = exc.api_message or exc.message
            if exc.status_code >= 400:
                return error_for_status(
                    exc.status_code,
                    f"{self.name} answered {exc.status_code}: {detail}",
                    provider=self.name,
                    request_id=exc.request_id,
                    retry_after=parse_retry_after(exc.response.headers),
                )
            # An `error` event inside a stream that had started with 200.
            error_class = _ERROR_TYPES.get(exc.type or "", LLMProviderUnavailableError)
            return error_class(f"{self.name} failed mid-stream ({exc.type}): {detail}", provider=self.name)
        return LLMProviderUnavailableError(f"{self.name} failed: {exc}", provider=self.name)


def _usage(vendor_usage: dict[str, Any]) -> LLMUsage:
    cache_read = vendor_usage.get("cache_read_input_tokens") or 0
    cache_write = vendor_usage.get("cache_creation_input_tokens") or 0
    return LLMUsage(
        prompt_tokens=(vendor_usage.get("input_tokens") or 0) + cache_read + cache_write,
        completion_tokens=vendor_usage.get("output_tokens") or 0,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )
