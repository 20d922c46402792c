"""The recording wrapper: any `BaseLLMProvider`, with every call saved as an `LLMCall`.

    provider = RecordingProvider(MockLLMProvider(), config=provider_config)
    with attribution(workflow_id="wf-7", agent_id="coder"):
        response = await provider.generate("Write a parser", task_id="task-3")
    response.metadata["ledger"]  # {"call_id": 41, "cost_usd": "0.000123", ...}

Agents see the same interface. Attribution (`agent_id`, `workflow_id`, `task_id`) comes from keyword
arguments, else from the values bound when the provider was made (`provider_for(name, agent_id=…)`),
else from the innermost `with attribution(...)` block (contextvars, so it follows asyncio tasks).

What is recorded, however the call ends:
- ok / error (the error still reaches the caller) / cached (our cache answered: cost 0, `saved_usd`
  what the original call cost) / cancelled (the caller closed a stream or cancelled the task: the
  tokens spent so far, estimated from the text when the vendor sent no usage, and their cost);
- a write that fails is logged loudly and never turns a call into a failure.
Invalid arguments (unknown keywords, out-of-range values) raise before any call and are not recorded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from llm import caching, rate_limits
from llm.key_encryption import mask_api_key
from llm.models import CallStatus, LLMCall, PriceSource, ProviderConfig, UsageSource
from llm.pricing import Price, price_call
from llm.providers import BaseLLMProvider, LLMRequest, LLMResponse, LLMUsage, estimate_tokens
from llm.providers.streaming import LLMStream, StreamState

log = logging.getLogger(__name__)

ATTRIBUTION_FIELDS = ("agent_id", "workflow_id", "task_id")
_WORD_CHUNKS = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who a call is for; "" means not attributed."""

    agent_id: str = ""
    workflow_id: str = ""
    task_id: str = ""

    def over(self, fallback: Attribution) -> Attribution:
        """These values, with the blanks filled from `fallback`."""
        return Attribution(
            agent_id=self.agent_id or fallback.agent_id,
            workflow_id=self.workflow_id or fallback.workflow_id,
            task_id=self.task_id or fallback.task_id,
        )


NO_ATTRIBUTION = Attribution()
_current_attribution: ContextVar[Attribution] = ContextVar("conductor_llm_attribution", default=NO_ATTRIBUTION)


@contextmanager
def attribution(
    *, agent_id: str | None = None, workflow_id: str | None = None, task_id: str | None = None
) -> Iterator[Attribution]:
    """Attribute every call in the block (and in tasks started from it); unset fields keep the outer values."""
    given = Attribution(agent_id=agent_id or "", workflow_id=workflow_id or "", task_id=task_id or "")
    token = _current_attribution.set(given.over(_current_attribution.get()))
    try:
        yield _current_attribution.get()
    finally:
        _current_attribution.reset(token)


def current_attribution() -> Attribution:
    return _current_attribution.get()


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger recorded for a call; also in `response.metadata["ledger"]` as JSON-safe values."""

    call_id: int | None
    status: str
    cost_usd: Decimal | None
    price_source: str

    def as_metadata(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "status": str(self.status),
            "cost_usd": None if self.cost_usd is None else str(self.cost_usd),
            "price_source": str(self.price_source),
        }


class RecordingProvider(BaseLLMProvider):
    """`wrapped`, with every call recorded, and the config's cache and rate limits applied."""

    def __init__(
        self,
        wrapped: BaseLLMProvider,
        *,
        config: ProviderConfig | None = None,
        attribution: Attribution | None = None,
    ) -> None:
        super().__init__(wrapped.config)
        self.wrapped = wrapped
        self.provider_config = config
        self.bound_attribution = attribution or Attribution()

    # The interface: attribution keywords are taken off before the wrapped provider sees the call.

    async def generate(self, prompt: str, **kwargs: Any) -> LLMResponse:
        with self._attributed(kwargs):
            return await super().generate(prompt, **kwargs)

    def generate_stream(self, prompt: str, **kwargs: Any) -> LLMStream:
        with self._attributed(kwargs):
            return super().generate_stream(prompt, **kwargs)

    async def get_available_models(self) -> list[str]:
        return await self.wrapped.get_available_models()

    async def validate(self) -> bool:
        return await self.wrapped.validate()

    async def aclose(self) -> None:
        await self.wrapped.aclose()

    def __repr__(self) -> str:
        config = f" config={self.provider_config.name!r}" if self.provider_config else ""
        return f"<RecordingProvider {self.name}/{self.model}{config}>"

    @contextmanager
    def _attributed(self, kwargs: dict[str, Any]) -> Iterator[None]:
        given = {name: kwargs.pop(name) for name in ATTRIBUTION_FIELDS if name in kwargs}
        for name, value in given.items():
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string, not {type(value).__name__}.")
        explicit = Attribution(**{name: value or "" for name, value in given.items()})
        merged = explicit.over(self.bound_attribution).over(_current_attribution.get())
        token = _current_attribution.set(merged)
        try:
            yield
        finally:
            _current_attribution.reset(token)

    # One non-streaming call.

    async def _generate(self, request: LLMRequest) -> LLMResponse:
        call = _Call(self, request, current_attribution(), streamed=False)
        if (hit := await call.cache_lookup()) is not None:
            entry = await call.record(CallStatus.CACHED, hit.response, cached=hit)
            return _with_ledger(hit.response, entry)
        try:
            await call.acquire_rate_limit()
            response = await self.wrapped.generate(request.prompt, **request.overrides)
        except asyncio.CancelledError:
            await call.record_shielded(CallStatus.CANCELLED, None, error=asyncio.CancelledError())
            raise
        except Exception as exc:
            await call.record(CallStatus.ERROR, None, error=exc)
            raise
        entry = await call.record(CallStatus.OK, response)
        await call.cache_store(response, entry)
        return _with_ledger(response, entry)

    # One streaming call: LLMStream drives this generator; it records however the stream ends.

    def _stream(self, request: LLMRequest, state: StreamState) -> AsyncGenerator[str]:
        # Called when the stream is made, so the attribution is the caller's, not the iterating task's.
        return self._recorded_stream(_Call(self, request, current_attribution(), streamed=True), state)

    async def _recorded_stream(self, call: _Call, state: StreamState) -> AsyncGenerator[str]:
        if (hit := await call.cache_lookup()) is not None:
            # Replay the cached answer in word-sized chunks; recorded as cached even if the reader stops early.
            _copy_into_state(hit.response, state)
            state.started = True
            try:
                for chunk in _WORD_CHUNKS.findall(hit.response.content):
                    call.first_chunk()
                    yield chunk
            finally:
                entry = await call.record_shielded(CallStatus.CACHED, hit.response, cached=hit)
                state.metadata["ledger"] = entry.as_metadata()
            return
        try:
            await call.acquire_rate_limit()
        except Exception as exc:
            await call.record(CallStatus.ERROR, None, error=exc)
            raise
        inner = self.wrapped.generate_stream(call.request.prompt, **call.request.overrides)
        failure: BaseException | None = None
        try:
            async for chunk in inner:
                call.first_chunk()
                state.started = True
                yield chunk
        except BaseException as exc:  # GeneratorExit (closed early), CancelledError, or the provider's error
            failure = exc
            raise
        finally:
            if not inner.done:
                try:
                    await inner.aclose()
                except Exception:
                    log.warning("Closing the wrapped LLM stream failed", exc_info=True)
            response = inner.response
            _copy_into_state(response, state)
            if failure is None:
                status = CallStatus.OK
            elif isinstance(failure, GeneratorExit | asyncio.CancelledError):
                status = CallStatus.CANCELLED
            else:
                status = CallStatus.ERROR
            entry = await call.record_shielded(status, response, error=failure)
            state.metadata["ledger"] = entry.as_metadata()
            if status == CallStatus.OK:
                await call.cache_store(response, entry)


class _Call:
    """One call in progress: its timing, and how to record it."""

    def __init__(self, provider: RecordingProvider, request: LLMRequest, who: Attribution, *, streamed: bool) -> None:
        self.provider = provider
        self.config = provider.provider_config
        self.request = request
        self.attribution = who
        self.streamed = streamed
        self.started_at = timezone.now()
        self._started = time.perf_counter()
        self._first_chunk: float | None = None
        self.fingerprint = ""
        if self.config is not None and self.config.cache_enabled:
            self.fingerprint = caching.request_fingerprint(provider.config, request)

    def first_chunk(self) -> None:
        if self._first_chunk is None:
            self._first_chunk = time.perf_counter()

    async def cache_lookup(self) -> caching.CachedAnswer | None:
        return await caching.cached_answer(self.fingerprint) if self.fingerprint else None

    async def cache_store(self, response: LLMResponse, entry: LedgerEntry) -> None:
        if self.fingerprint and self.config is not None:
            await caching.store_answer(
                self.fingerprint,
                response,
                call_id=entry.call_id,
                cost_usd=entry.cost_usd,
                ttl_seconds=self.config.cache_ttl_seconds,
            )

    async def acquire_rate_limit(self) -> None:
        if self.config is not None and self.config.pk is not None:
            await rate_limits.acquire(self.config)

    async def record_shielded(
        self,
        status: CallStatus,
        response: LLMResponse | None,
        *,
        error: BaseException | None = None,
        cached: caching.CachedAnswer | None = None,
    ) -> LedgerEntry:
        """Record even while the caller's task is being cancelled (the write finishes in its own task)."""
        task = asyncio.ensure_future(self.record(status, response, error=error, cached=cached))
        _pending_records.add(task)
        task.add_done_callback(_pending_records.discard)
        return await asyncio.shield(task)

    async def record(
        self,
        status: CallStatus,
        response: LLMResponse | None,
        *,
        error: BaseException | None = None,
        cached: caching.CachedAnswer | None = None,
    ) -> LedgerEntry:
        """Save the LLMCall row; a failure to save is logged, never raised."""
        try:
            fields, price = self._fields(status, response, error, cached)
        except Exception:
            log.exception("Could not build the ledger record of an LLM call; the call is NOT recorded")
            return LedgerEntry(None, status, None, PriceSource.UNKNOWN)
        try:
            call_id = await sync_to_async(_insert_call)(fields)
        except Exception:
            log.exception(
                "Could not record an LLM call in the ledger (%s %s/%s, %s tokens); the call is NOT recorded",
                status,
                fields["provider"],
                fields["model"],
                fields["total_tokens"],
            )
            call_id = None
        return LedgerEntry(call_id, status, fields["cost_usd"], price.source)

    def _fields(
        self,
        status: CallStatus,
        response: LLMResponse | None,
        error: BaseException | None,
        cached: caching.CachedAnswer | None,
    ) -> tuple[dict[str, Any], Price]:
        request = self.request
        usage = response.usage if response is not None else LLMUsage()
        metadata = dict(response.metadata) if response is not None else {}
        usage_source = metadata.pop("usage_source", "vendor" if response is not None else "none")
        if response is None and status == CallStatus.CANCELLED:
            # A plain call cancelled in flight: the vendor has the prompt and bills it regardless.
            usage, usage_source = LLMUsage(prompt_tokens=estimate_tokens(request.prompt_text)), "estimated"
        model = (response.model if response is not None else "") or self.provider.model
        if cached is not None:
            price = Price(Decimal(0), PriceSource.CACHE)
        else:
            price = price_call(
                provider=self.provider.name, model=model, usage=usage, config=self.config, at=self.started_at
            )
            if price.cost_usd is None and usage.total_tokens == 0 and usage.cache_write_tokens == 0:
                price = replace(price, cost_usd=Decimal(0))  # nothing was spent, whatever the price
        if price.detail:
            metadata["price"] = price.detail
        metadata.pop("ledger", None)
        finished = time.perf_counter()
        error_class, error_message = "", ""
        if error is not None:
            error_class = type(error).__name__
            error_message = self._scrub(str(error)) or (
                "stream closed by the caller" if status == CallStatus.CANCELLED else ""
            )
        fields: dict[str, Any] = {
            "created_at": self.started_at,
            "config_id": self.config.pk if self.config is not None else None,
            "config_name": self.config.name if self.config is not None else "",
            "provider": self.provider.name,
            "model": model,
            "system": request.system or "",
            "prompt": request.prompt,
            "response": response.content if response is not None else "",
            "finish_reason": response.finish_reason if response is not None else "",
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "usage_source": usage_source if usage_source in UsageSource.values else UsageSource.ESTIMATED,
            "cost_usd": price.cost_usd,
            "saved_usd": cached.cost_usd if cached is not None else None,
            "price_source": price.source,
            "status": status,
            "error_class": error_class,
            "error_message": error_message,
            "streamed": self.streamed,
            "latency_ms": round((finished - self._started) * 1000),
            "time_to_first_token_ms": (
                round((self._first_chunk - self._started) * 1000) if self._first_chunk is not None else None
            ),
            "request_params": _json_safe(
                {
                    "temperature": request.temperature,
                    "max_tokens": request.max_tokens,
                    **({"stop": list(request.stop)} if request.stop else {}),
                    **({"tools": list(request.tools)} if request.tools else {}),
                    **({"tool_choice": request.tool_choice} if request.tool_choice is not None else {}),
                }
            ),
            "metadata": _json_safe(metadata),
            "cache_key": self.fingerprint,
            "cached_from_id": cached.call_id if cached is not None else None,
            **{name: getattr(self.attribution, name) for name in ATTRIBUTION_FIELDS},
        }
        return fields, price

    def _scrub(self, message: str) -> str:
        """Vendor error texts sometimes echo the key; never store or show it."""
        key = self.provider.config.api_key
        if key and key in message:
            message = message.replace(key, mask_api_key(key))
        return message


_pending_records: set[asyncio.Future[LedgerEntry]] = set()


def _insert_call(fields: dict[str, Any]) -> int:
    with transaction.atomic():  # a savepoint when the caller is in a transaction: a failure stays here
        if fields["cached_from_id"] is not None and not LLMCall.objects.filter(pk=fields["cached_from_id"]).exists():
            fields = {**fields, "cached_from_id": None}  # the original call was deleted since
        return LLMCall.objects.create(**fields).pk


def _with_ledger(response: LLMResponse, entry: LedgerEntry) -> LLMResponse:
    return replace(response, metadata={**response.metadata, "ledger": entry.as_metadata()})


def _copy_into_state(response: LLMResponse, state: StreamState) -> None:
    """Hand the wrapped stream's outcome to ours, so our LLMStream's response is the same."""
    state.model = response.model
    state.usage = response.usage
    metadata = dict(response.metadata)
    state.usage_source = metadata.pop("usage_source", "vendor")
    state.tool_calls = list(metadata.pop("tool_calls", []))
    if response.finish_reason != "error":
        state.finish_reason = response.finish_reason
    for key in ("streamed", "cancelled", "error", "provider"):
        metadata.pop(key, None)
    state.metadata.update(metadata)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
