"""`LLMStream`: the async iterator `generate_stream` returns, and the response it leaves behind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from llm.providers.config import FinishReason, LLMRequest, LLMResponse, LLMUsage
from llm.providers.tokens import estimate_tokens

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StreamState:
    """What a provider's stream learns as the vendor's events arrive. The provider fills it in;
    `LLMStream` turns it into the final `LLMResponse`, however the stream ends."""

    model: str
    started: bool = False
    """The vendor accepted the request and began answering: tokens are spent from here on."""
    finish_reason: FinishReason | None = None
    usage: LLMUsage | None = None
    """The vendor's own final counts, once it sent them."""
    usage_source: str = "vendor"
    """What `usage` is, when set (the mock's counts are `estimated`)."""
    prompt_tokens: int | None = None
    """The vendor's input count when it is known before the end (Anthropic's message_start)."""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


StreamSource = Callable[[StreamState], AsyncGenerator[str]]
FinishCallback = Callable[[LLMResponse], None]


class LLMStream:
    """Text chunks as they arrive; afterwards, the whole `LLMResponse` as `.response`.

        async with provider.generate_stream("Write a haiku") as stream:
            async for chunk in stream:
                print(chunk, end="")
        stream.response.usage  # tokens, including the vendor's final counts

    The request is sent on the first iteration. `.response` is there once the stream has ended in any
    way — exhausted (`finish_reason` from the vendor), failed part-way (the LLMError propagates;
    `finish_reason="error"`, `metadata["error"]`), or closed early with `aclose()` / leaving the `async with`
    block / the consuming task being cancelled (`finish_reason="error"`, `metadata["cancelled"]=True`).
    A stream cut short still reports what it spent: `.text` is the text so far, and `usage` holds the
    vendor's counts where it sent them, else estimates from text length (`metadata["usage_source"] ==
    "estimated"`); only a stream that never reached the vendor reports zero (`"none"`).
    Callbacks added with `add_finish_callback` run once, synchronously, when the response is made; keep
    them quick (schedule I/O, don't do it).
    """

    def __init__(
        self,
        source: StreamSource,
        *,
        request: LLMRequest,
        provider_name: str,
        model: str,
    ) -> None:
        self.request = request
        self.provider_name = provider_name
        self._state = StreamState(model=model)
        self._source = source(self._state)
        self._chunks: list[str] = []
        self._response: LLMResponse | None = None
        self._iterated = False
        self._callbacks: list[FinishCallback] = []

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        if self._response is not None:
            raise StopAsyncIteration
        self._iterated = True
        try:
            chunk = await anext(self._source)
        except StopAsyncIteration:
            self._finish()
            raise
        except asyncio.CancelledError:
            self._finish(cancelled=True)
            raise
        except BaseException as exc:
            self._finish(error=exc)
            raise
        self._chunks.append(chunk)
        return chunk

    async def aclose(self) -> None:
        """Stop reading (closing the vendor connection); `.response` then holds the partial result."""
        if self._response is not None:
            return
        try:
            await self._source.aclose()
        finally:
            if self._response is None:
                self._finish(cancelled=True)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def collect(self) -> LLMResponse:
        """Read the stream to the end and return the response."""
        async for _chunk in self:
            pass
        return self.response

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._chunks)

    @property
    def done(self) -> bool:
        return self._response is not None

    @property
    def response(self) -> LLMResponse:
        if self._response is None:
            raise RuntimeError("The stream is still open: read it to the end or call aclose() first.")
        return self._response

    def add_finish_callback(self, callback: FinishCallback) -> None:
        """Call `callback(response)` when the stream ends (at once if it has ended already)."""
        if self._response is not None:
            callback(self._response)
        else:
            self._callbacks.append(callback)

    def _finish(self, *, cancelled: bool = False, error: BaseException | None = None) -> None:
        state = self._state
        complete = not cancelled and error is None
        metadata: dict[str, Any] = {"provider": self.provider_name, **state.metadata, "streamed": True}
        if state.tool_calls:
            metadata["tool_calls"] = state.tool_calls
        if cancelled:
            metadata["cancelled"] = True
        if error is not None:
            metadata["error"] = {"type": type(error).__name__, "message": str(error)}
        usage, metadata["usage_source"] = self._usage(spent=state.started or (cancelled and self._iterated))
        finish_reason: FinishReason = (state.finish_reason or "stop") if complete else "error"
        self._response = LLMResponse(
            content=self.text, model=state.model, usage=usage, finish_reason=finish_reason, metadata=metadata
        )
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self._response)

    def _usage(self, *, spent: bool) -> tuple[LLMUsage, str]:
        state = self._state
        if state.usage is not None:
            return state.usage, state.usage_source
        if not spent:
            return LLMUsage(), "none"
        completion_text = self.text + "".join(call.get("arguments", "") for call in state.tool_calls)
        prompt_tokens = state.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = estimate_tokens(self.request.prompt_text)
        return LLMUsage(prompt_tokens=prompt_tokens, completion_tokens=estimate_tokens(completion_text)), "estimated"

    def __del__(self) -> None:
        # A consumer that broke out of `async for` without closing: still record what was spent.
        if self._response is None and self._iterated:
            try:
                self._finish(cancelled=True)
            except Exception:
                log.exception("Finishing an abandoned LLM stream failed")

    def __repr__(self) -> str:
        state = "done" if self._response is not None else "open"
        return f"<LLMStream {self.provider_name}/{self._state.model} {state}, {len(self._chunks)} chunks>"
