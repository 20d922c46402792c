"""LLM calls over JSON: provider configs, generate (plain or as server-sent events), the call ledger, usage.

Thin: calls go through `llm.configured` (so the ledger records every one, with its attribution, cache and
rate limits), reads through `llm.usage`, as the pages do. The caller names a provider config; it never
sends a base URL or a key, and no response carries a key or a hint of one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationInfo, field_validator

from artifacts.store.artifact import validate_storable_text
from conductor_site.api import api, error_responses
from llm.configured import ProviderConfigDisabled, ProviderConfigNotFound, aprovider_for
from llm.key_encryption import KeyDecryptionError, mask_api_key
from llm.models import ID_LENGTH, CallStatus, LLMCall, ProviderConfig
from llm.providers import (
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMConfigError,
    LLMError,
    LLMProviderUnavailableError,
    LLMRateLimitError,
    LLMResponse,
    LLMTimeoutError,
)
from llm.recording import RecordingProvider
from llm.sse import event_stream_response, sse_event
from llm.usage import (
    GROUP_BY_CHOICES,
    MAX_PAGE_SIZE,
    CallFilters,
    UsageTotals,
    call_page,
    usage_grouped,
    usage_series,
    usage_totals,
)

log = logging.getLogger(__name__)

router = Router(tags=["llm"])
usage_router = Router(tags=["usage"])

MAX_PROMPT_CHARS = 1_000_000
MAX_OUTPUT_TOKENS = 1_000_000
MAX_STOP_SEQUENCES = 8
BIGINT = 2**63 - 1
# Years a range may name: wide enough for any real query, narrow enough that date arithmetic never overflows.
FIRST_YEAR, LAST_YEAR = 1970, 9000


# Provider configs


class PricesOut(Schema):
    """USD per million tokens set on the config; all null: genai-prices' price for the model applies."""

    input_per_million: Decimal | None
    output_per_million: Decimal | None
    cache_read_per_million: Decimal | None
    cache_write_per_million: Decimal | None


class ProviderConfigOut(Schema):
    name: str = Field(description="What `generate` takes as `config`.")
    provider: str = Field(description="The provider kind: mock, openai, anthropic, openai-compatible, …")
    model: str
    enabled: bool
    temperature: float
    max_tokens: int
    timeout_seconds: float
    max_retries: int
    cache_enabled: bool
    cache_ttl_seconds: int
    requests_per_minute: int | None = Field(description="null: no limit.")
    tokens_per_minute: int | None = Field(description="null: no limit.")
    rate_limit_max_wait_seconds: float
    prices: PricesOut


class ProviderConfigListOut(Schema):
    items: list[ProviderConfigOut]


def _config_out(config: ProviderConfig) -> ProviderConfigOut:
    # Field by field, so nothing about the key (variable name, ciphertext, hint) or the base URL can slip in.
    return ProviderConfigOut(
        name=config.name,
        provider=config.provider,
        model=config.model,
        enabled=config.enabled,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        timeout_seconds=config.timeout_seconds,
        max_retries=config.max_retries,
        cache_enabled=config.cache_enabled,
        cache_ttl_seconds=config.cache_ttl_seconds,
        requests_per_minute=config.requests_per_minute,
        tokens_per_minute=config.tokens_per_minute,
        rate_limit_max_wait_seconds=config.rate_limit_max_wait_seconds,
        prices=PricesOut(
            input_per_million=config.input_price_per_million,
            output_per_million=config.output_price_per_million,
            cache_read_per_million=config.cache_read_price_per_million,
            cache_write_per_million=config.cache_write_price_per_million,
        ),
    )


@router.get("/providers", response={200: ProviderConfigListOut, **error_responses()}, url_name="llm_providers")
def list_providers(request: HttpRequest) -> ProviderConfigListOut:
    """Every provider config, by name: what `generate` can use (when enabled), its limits and price overrides.

    Never a key, a key hint or a base URL.
    """
    return ProviderConfigListOut(items=[_config_out(config) for config in ProviderConfig.objects.order_by("name")])


# Generate


def _storable(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        validate_storable_text(info.field_name or "text", value)
    return value


StopSequence = Annotated[str, Field(min_length=1, max_length=200)]


class GenerateIn(BaseModel):
    """One completion. Only these fields are accepted: no base URL, no key, nothing else (422)."""

    model_config = ConfigDict(extra="forbid")

    config: str = Field(
        min_length=1,
        max_length=100,
        description="A provider config's name (GET /api/llm/providers).",
        examples=["mock"],
    )
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, description="The user message.")
    system: str | None = Field(None, max_length=MAX_PROMPT_CHARS, description="An optional system prompt.")
    temperature: float | None = Field(None, ge=0, le=2, description="Defaults to the config's.")
    max_tokens: int | None = Field(None, ge=1, le=MAX_OUTPUT_TOKENS, description="Defaults to the config's.")
    stop: StopSequence | list[StopSequence] | None = Field(
        None, description=f"A stop sequence, or up to {MAX_STOP_SEQUENCES}."
    )
    agent_id: str | None = Field(None, max_length=ID_LENGTH, description="Attribution in the ledger.")
    workflow_id: str | None = Field(None, max_length=ID_LENGTH)
    task_id: str | None = Field(None, max_length=ID_LENGTH)

    _storable_text = field_validator("config", "prompt", "system", "agent_id", "workflow_id", "task_id")(_storable)

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_STOP_SEQUENCES:
            raise ValueError(f"give 1 to {MAX_STOP_SEQUENCES} stop sequences, not {len(value)}.")
        for sequence in [value] if isinstance(value, str) else value or []:
            validate_storable_text("stop", sequence)
        return value

    def overrides(self) -> dict[str, Any]:
        given = {
            "system": self.system or None,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": self.stop,
        }
        return {name: value for name, value in given.items() if value is not None}


class TokensOut(Schema):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class GenerateOut(Schema):
    call_id: int | None = Field(
        description="The ledger's record (GET /api/llm/calls/{id}); null if it could not be saved."
    )
    status: str = Field(description="ok, or cached when the config's cache answered (no cost).")
    config: str
    provider: str
    model: str
    content: str
    finish_reason: str = Field(description="stop, length, tool_calls or error.")
    usage: TokensOut
    cost_usd: Decimal | None = Field(description="USD as a decimal string; null when the model has no known price.")
    price_source: str
    latency_ms: int


class ConfigErrorOut(Schema):
    """The config cannot be used (unknown, disabled or misconfigured); these can."""

    detail: str
    enabled_configs: list[str]


class LLMErrorOut(Schema):
    """The provider failed: a plain sentence, and the provider layer's error class."""

    detail: str | list[dict[str, Any]]
    error_class: str | None = None
    retry_after_seconds: float | None = None


# What each provider error means to an API client: status, and a plain sentence to start the detail with.
_LLM_ERRORS: tuple[tuple[type[LLMError], int, str], ...] = (
    (LLMAuthenticationError, 502, "The provider did not accept the config's credentials."),
    (LLMRateLimitError, 429, "Rate limited."),
    (LLMTimeoutError, 504, "The provider did not answer in time."),
    (LLMBadRequestError, 400, "The provider refused the request."),
    (LLMProviderUnavailableError, 503, "The provider is unavailable."),
    (LLMError, 502, "The provider failed."),
)
LLM_ERROR_STATUSES = (400, 429, 502, 503, 504)


def _llm_error_responses() -> dict[int, type[Schema]]:
    responses: dict[int, type[Schema]] = {**error_responses(), 404: ConfigErrorOut, 409: ConfigErrorOut}
    responses.update({status: LLMErrorOut for status in LLM_ERROR_STATUSES})
    return responses


class _ConfigUnusable(Exception):
    def __init__(self, status: int, detail: str, enabled: list[str]) -> None:
        super().__init__(detail)
        self.status, self.detail, self.enabled = status, detail, enabled


def _enabled_names() -> list[str]:
    return list(ProviderConfig.objects.filter(enabled=True).order_by("name").values_list("name", flat=True))


async def _provider(payload: GenerateIn) -> RecordingProvider:
    """The recorded provider for the named config, attributed as asked; _ConfigUnusable when it cannot be had."""
    try:
        return await aprovider_for(
            payload.config, agent_id=payload.agent_id, workflow_id=payload.workflow_id, task_id=payload.task_id
        )
    except ProviderConfigNotFound:
        status, problem = 404, f"No provider config named {payload.config!r}."
    except ProviderConfigDisabled:
        status, problem = 409, f"Provider config {payload.config!r} is disabled."
    except (LLMConfigError, KeyDecryptionError, ImproperlyConfigured) as exc:
        status, problem = 409, f"Provider config {payload.config!r} cannot be used: {exc} Fix it in the admin."
    enabled = await sync_to_async(_enabled_names)()
    raise _ConfigUnusable(status, f"{problem} Enabled configs: {', '.join(enabled) or 'none'}.", enabled)


def _config_refusal(request: HttpRequest, exc: _ConfigUnusable) -> HttpResponse:
    return api.create_response(request, {"detail": exc.detail, "enabled_configs": exc.enabled}, status=exc.status)


def _describe_llm_error(exc: LLMError, provider: RecordingProvider) -> tuple[int, str]:
    """The HTTP status for a provider error, and a plain message without the key in it."""
    status, sentence = next((status, sentence) for cls, status, sentence in _LLM_ERRORS if isinstance(exc, cls))
    if isinstance(exc, LLMAuthenticationError):
        # What the vendor said about the key is the operator's business (it is in the ledger), not the caller's.
        name = _config_name(provider)
        return status, f"The provider did not accept the credentials of config {name!r}; fix its key in the admin."
    said = _scrub(str(exc).strip(), provider)
    if isinstance(exc, LLMRateLimitError) and exc.retry_after:
        said = f"{said.rstrip('.')}. Try again in {math.ceil(exc.retry_after)} s."
    return status, f"{sentence} {said}".strip() if said and said != sentence else sentence


def _scrub(message: str, provider: RecordingProvider) -> str:
    key = provider.config.api_key
    return message.replace(key, mask_api_key(key)) if key and key in message else message


def _config_name(provider: RecordingProvider) -> str:
    return provider.provider_config.name if provider.provider_config is not None else provider.name


def _retry_after(exc: LLMError) -> float | None:
    return exc.retry_after if isinstance(exc, LLMRateLimitError) and exc.retry_after is not None else None


def _llm_refusal(request: HttpRequest, exc: LLMError, provider: RecordingProvider) -> HttpResponse:
    status, detail = _describe_llm_error(exc, provider)
    retry_after = _retry_after(exc)
    body = {"detail": detail, "error_class": type(exc).__name__, "retry_after_seconds": retry_after}
    response = api.create_response(request, body, status=status)
    if status == 429:
        response["Retry-After"] = str(max(1, math.ceil(retry_after or 1)))
    return response


def _cost(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _tokens(response: LLMResponse) -> TokensOut:
    usage = response.usage
    return TokensOut(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )


@router.post("/generate", response={200: GenerateOut, **_llm_error_responses()}, url_name="llm_generate")
async def generate(request: HttpRequest, payload: GenerateIn) -> HttpResponse | GenerateOut:
    """Complete a prompt with a provider config; the call is recorded in the ledger with its attribution.

    404 for an unknown config and 409 for a disabled or unusable one (both list the enabled configs);
    provider failures: 502 (refused credentials or other failure), 429 (rate limited, with Retry-After),
    504 (timed out), 400 (the provider refused the request), 503 (provider unavailable).
    """
    try:
        provider = await _provider(payload)
    except _ConfigUnusable as exc:
        return _config_refusal(request, exc)
    started = time.perf_counter()
    try:
        response = await provider.generate(payload.prompt, **payload.overrides())
    except LLMError as exc:
        return _llm_refusal(request, exc, provider)
    finally:
        await provider.aclose()
    ledger = response.metadata.get("ledger") or {}
    return GenerateOut(
        call_id=ledger.get("call_id"),
        status=ledger.get("status", CallStatus.OK),
        config=_config_name(provider),
        provider=provider.name,
        model=response.model,
        content=response.content,
        finish_reason=response.finish_reason,
        usage=_tokens(response),
        cost_usd=_cost(ledger.get("cost_usd")),
        price_source=ledger.get("price_source", ""),
        latency_ms=_ms_since(started),
    )


# The events of a stream; each event's `data` is one of these as one line of JSON.


class ChunkEvent(Schema):
    text: str


class _Spent(Schema):
    call_id: int | None = Field(None, description="The ledger's record; null if it could not be saved.")
    status: str | None = Field(None, description="The ledger's status: ok, cached or error.")
    usage: TokensOut | None = None
    cost_usd: str | None = Field(None, description="USD as a decimal string; null when no price is known.")
    price_source: str | None = None


class DoneEvent(_Spent):
    config: str
    provider: str
    model: str
    finish_reason: str
    latency_ms: int
    time_to_first_token_ms: int | None


class ErrorEvent(_Spent):
    """The stream failed: what `generate` would have answered, and what the call had spent by then."""

    error_class: str
    http_status: int
    message: str
    retry_after_seconds: float | None = None


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its $defs put in place (it sits inside the OpenAPI document, not at its root)."""
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        return [inline(item) for item in node] if isinstance(node, list) else node

    return inline(schema)


def _event_schema(name: str, data: type[Schema]) -> dict[str, Any]:
    content_schema = _inlined(data.model_json_schema())
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": content_schema},
        },
    }


_STREAM_DOC = {
    "responses": {
        200: {
            "description": (
                "Server-sent events, each one's `data` a line of JSON: `chunk` as the text arrives, then one "
                "`done`, or one `error` (with `http_status`, the status `generate` would have answered)."
            ),
            "content": {
                "text/event-stream": {
                    "schema": {
                        "oneOf": [
                            _event_schema("chunk", ChunkEvent),
                            _event_schema("done", DoneEvent),
                            _event_schema("error", ErrorEvent),
                        ]
                    }
                }
            },
        }
    }
}


@router.post(
    "/generate/stream",
    response={200: None, **error_responses(), 404: ConfigErrorOut, 409: ConfigErrorOut},
    url_name="llm_generate_stream",
    openapi_extra=_STREAM_DOC,
)
async def generate_stream(request: HttpRequest, payload: GenerateIn) -> HttpResponse:
    """`generate`, streamed as server-sent events: `chunk`…, then `done` or `error`.

    An unknown or unusable config is refused before the stream starts (404/409, JSON). A provider
    failure after that is an `error` event carrying the status `generate` would have answered. A client
    that disconnects closes the provider's stream; the ledger records the call as cancelled, with the
    tokens it used.
    """
    try:
        provider = await _provider(payload)
    except _ConfigUnusable as exc:
        return _config_refusal(request, exc)
    return event_stream_response(_stream_events(provider, payload))


async def _stream_events(provider: RecordingProvider, payload: GenerateIn) -> AsyncGenerator[str]:
    started = time.perf_counter()
    first_chunk: float | None = None
    stream = None
    outcome: DoneEvent | ErrorEvent
    try:
        stream = provider.generate_stream(payload.prompt, **payload.overrides())
        async for text in stream:
            if not text:
                continue
            if first_chunk is None:
                first_chunk = time.perf_counter()
            yield sse_event("chunk", ChunkEvent(text=text).dict())
        response = stream.response
        outcome = DoneEvent(
            **_spent(response),
            config=_config_name(provider),
            provider=provider.name,
            model=response.model,
            finish_reason=response.finish_reason,
            latency_ms=_ms_since(started),
            time_to_first_token_ms=None if first_chunk is None else _ms_since(started, first_chunk),
        )
    except LLMError as exc:
        status, message = _describe_llm_error(exc, provider)
        outcome = ErrorEvent(
            **(_spent(stream.response) if stream is not None and stream.done else {}),
            error_class=type(exc).__name__,
            http_status=status,
            message=message,
            retry_after_seconds=_retry_after(exc),
        )
    except Exception as exc:
        log.exception("Streaming from provider config %r failed", _config_name(provider))
        outcome = ErrorEvent(
            error_class=type(exc).__name__,
            http_status=500,
            message=f"The call failed on the server ({type(exc).__name__}); the details are in the server log.",
        )
    finally:
        # The client went away (this task is cancelled) or the stream ended: closing it records what was spent.
        if stream is not None:
            await stream.aclose()
        await provider.aclose()
    yield sse_event("done" if isinstance(outcome, DoneEvent) else "error", outcome.dict())


def _spent(response: LLMResponse) -> dict[str, Any]:
    ledger = response.metadata.get("ledger") or {}
    cost = _cost(ledger.get("cost_usd"))
    return {
        "call_id": ledger.get("call_id"),
        "status": ledger.get("status"),
        "usage": _tokens(response),
        "cost_usd": None if cost is None else format(cost.normalize(), "f"),
        "price_source": ledger.get("price_source"),
    }


def _ms_since(started: float, until: float | None = None) -> int:
    return round(((until or time.perf_counter()) - started) * 1000)


# The call ledger


def _moment(value: datetime | None, info: ValidationInfo) -> datetime | None:
    """In range, and in UTC (PostgreSQL refuses offsets over 15:59, which ISO 8601 allows)."""
    if value is None:
        return None
    if not FIRST_YEAR <= value.year < LAST_YEAR:
        raise ValueError(f"must be a time from the year {FIRST_YEAR} up to {LAST_YEAR}.")
    return value.astimezone(UTC)


class _Filters(Schema):
    since: AwareDatetime | None = Field(None, description="At or after (inclusive); must carry a timezone.")
    until: AwareDatetime | None = Field(None, description="Before (exclusive); must carry a timezone.")
    agent_id: str | None = None
    workflow_id: str | None = None
    config: str | None = Field(None, description="A provider config's name.")
    provider: str | None = Field(None, description="A provider kind: mock, openai, anthropic, …")
    model: str | None = None

    _in_range = field_validator("since", "until")(_moment)
    _storable_text = field_validator("agent_id", "workflow_id", "config", "provider", "model")(_storable)


class CallListQuery(_Filters):
    task_id: str | None = None
    status: Literal["ok", "error", "cached", "cancelled"] | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(None, description="next_cursor of the previous page, unchanged.")

    _task_storable = field_validator("task_id")(_storable)


class CallSummaryOut(Schema):
    id: int
    created_at: datetime
    config: str = Field(description="The provider config's name at the time of the call.")
    provider: str
    model: str
    status: str = Field(description="ok, error, cached or cancelled (a stream the caller stopped).")
    finish_reason: str
    streamed: bool
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    usage_source: str = Field(description="vendor, estimated or none.")
    cost_usd: Decimal | None = Field(description="null: no known price for the model.")
    saved_usd: Decimal | None = Field(description="Cache hits: what the original call cost.")
    price_source: str
    latency_ms: int | None
    time_to_first_token_ms: int | None
    error_class: str
    agent_id: str
    workflow_id: str
    task_id: str

    @staticmethod
    def resolve_config(obj: LLMCall) -> str:
        return obj.config_name


class CallOut(CallSummaryOut):
    system: str
    prompt: str
    response: str
    error_message: str
    request_params: dict[str, Any]
    cached_from_id: int | None = Field(description="Cache hits: the call whose answer was reused.")


class CallPageOut(Schema):
    items: list[CallSummaryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


@router.get("/calls", response={200: CallPageOut, **error_responses()}, url_name="llm_calls")
def list_calls(request: HttpRequest, filters: Query[CallListQuery]) -> dict[str, Any]:
    """Recorded calls, newest first, a keyset page at a time (without prompts and responses; get one for those)."""
    page = call_page(
        filters=CallFilters(
            since=filters.since,
            until=filters.until,
            agent_id=filters.agent_id,
            workflow_id=filters.workflow_id,
            task_id=filters.task_id,
            config=filters.config,
            provider=filters.provider,
            model=filters.model,
            status=filters.status,
        ),
        limit=filters.limit,
        cursor=filters.cursor,
    )
    return {"items": page.rows, "next_cursor": page.next_cursor}


@router.get("/calls/{call_id}", response={200: CallOut, **error_responses(404)}, url_name="llm_call")
def get_call(request: HttpRequest, call_id: int = Path(..., ge=1, le=BIGINT)) -> LLMCall:
    """One recorded call with its system prompt, prompt, response and error (keys are masked by the ledger)."""
    call = LLMCall.objects.filter(pk=call_id).first()
    if call is None:
        raise Http404(f"No recorded call has id {call_id}.")
    return call


# Usage


class UsageTotalsOut(Schema):
    """Calls, tokens and cost. Cache hits count in cached_calls and saved_usd only; cost_usd leaves out the
    unknown_cost_calls (calls with no known price), so cost_complete is false when there are any."""

    calls: int
    error_calls: int
    cached_calls: int
    unknown_cost_calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: Decimal
    saved_usd: Decimal
    cost_complete: bool
    first_call_at: datetime | None
    last_call_at: datetime | None


class UsageRowOut(UsageTotalsOut):
    key: str = Field(description="The provider, model, agent, workflow, config or day (YYYY-MM-DD); '' = unattributed.")


class UsagePointOut(UsageTotalsOut):
    bucket: datetime = Field(description="The start of the hour or day (UTC).")


class UsageGroupedOut(Schema):
    group_by: str
    rows: list[UsageRowOut]


class UsageSeriesOut(Schema):
    bucket: str
    since: datetime
    until: datetime
    points: list[UsagePointOut]


class UsageGroupedQuery(_Filters):
    group_by: Literal["provider", "model", "agent", "workflow", "config", "day"] = Field(
        description=f"One of {', '.join(GROUP_BY_CHOICES)}."
    )
    limit: int | None = Field(None, ge=1, le=10_000, description="At most this many groups (the most expensive).")


class UsageSeriesQuery(_Filters):
    bucket: Literal["hour", "day"] = "day"
    since: AwareDatetime | None = Field(
        None, description="Inclusive; defaults to 30 days ago (day buckets) or 48 hours ago (hour buckets)."
    )


def _totals_fields(totals: UsageTotals) -> dict[str, Any]:
    return {
        "calls": totals.calls,
        "error_calls": totals.error_calls,
        "cached_calls": totals.cached_calls,
        "unknown_cost_calls": totals.unknown_cost_calls,
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "total_tokens": totals.total_tokens,
        "cache_read_tokens": totals.cache_read_tokens,
        "cache_write_tokens": totals.cache_write_tokens,
        "cost_usd": totals.cost_usd,
        "saved_usd": totals.saved_usd,
        "cost_complete": totals.cost_complete,
        "first_call_at": totals.first_call_at,
        "last_call_at": totals.last_call_at,
    }


def _filter_kwargs(filters: _Filters) -> dict[str, Any]:
    return {
        "since": filters.since,
        "until": filters.until,
        "agent_id": filters.agent_id,
        "workflow_id": filters.workflow_id,
        "config": filters.config,
        "provider": filters.provider,
        "model": filters.model,
    }


@usage_router.get("", response={200: UsageTotalsOut, **error_responses()}, url_name="usage_totals")
def get_usage_totals(request: HttpRequest, filters: Query[_Filters]) -> UsageTotalsOut:
    """Totals of every recorded call matching the filters."""
    return UsageTotalsOut(**_totals_fields(usage_totals(**_filter_kwargs(filters))))


@usage_router.get("/grouped", response={200: UsageGroupedOut, **error_responses()}, url_name="usage_grouped")
def get_usage_grouped(request: HttpRequest, filters: Query[UsageGroupedQuery]) -> UsageGroupedOut:
    """One row per provider, model, agent, workflow, config or day: by day in date order, else most expensive first."""
    rows = usage_grouped(group_by=filters.group_by, limit=filters.limit, **_filter_kwargs(filters))
    return UsageGroupedOut(
        group_by=filters.group_by, rows=[UsageRowOut(key=row.key, **_totals_fields(row)) for row in rows]
    )


@usage_router.get("/series", response={200: UsageSeriesOut, **error_responses()}, url_name="usage_series")
def get_usage_series(request: HttpRequest, filters: Query[UsageSeriesQuery]) -> UsageSeriesOut:
    """A point per hour or day (UTC) from since to until (default now), empty buckets included, for charts."""
    until = filters.until or timezone.now()
    since = filters.since or until - (timedelta(days=30) if filters.bucket == "day" else timedelta(hours=48))
    points = usage_series(bucket=filters.bucket, **{**_filter_kwargs(filters), "since": since, "until": until})
    return UsageSeriesOut(
        bucket=filters.bucket,
        since=since,
        until=until,
        points=[UsagePointOut(bucket=point.bucket, **_totals_fields(point)) for point in points],
    )
