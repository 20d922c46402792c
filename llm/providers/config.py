"""Value objects of the provider layer: `LLMConfig`, `LLMRequest`, `LLMUsage`, `LLMResponse`. No database, no I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from llm.providers.errors import LLMBadRequestError, LLMConfigError

FinishReason = Literal["stop", "length", "error", "tool_calls"]
FINISH_REASONS: tuple[str, ...] = get_args(FinishReason)

UsageSource = Literal["vendor", "estimated", "none"]
"""Where `LLMResponse.usage` came from (in `metadata["usage_source"]`): the vendor's own counts, our estimate
from text length (the mock, or a stream cut short before the vendor reported usage), or nothing was spent
(the request never reached the vendor)."""

MAX_RETRIES_LIMIT = 10
MAX_TEMPERATURE = 2.0
PROVIDERS_REQUIRING_BASE_URL = frozenset({"openai-compatible"})


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_temperature(value: object, *, field_name: str = "temperature") -> float:
    """The temperature as a float, or LLMConfigError naming the allowed range."""
    if not _is_number(value) or not 0 <= value <= MAX_TEMPERATURE:  # type: ignore[operator]
        raise LLMConfigError(field_name, f"must be a number from 0 to {MAX_TEMPERATURE:g}, not {value!r}.")
    return float(value)  # type: ignore[arg-type]


def check_max_tokens(value: object, *, field_name: str = "max_tokens") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise LLMConfigError(field_name, f"must be a whole number greater than 0, not {value!r}.")
    return value


@dataclass(frozen=True)
class LLMConfig:
    """How to reach one model of one provider.

    `provider` is a registered name (`mock`, `openai`, `anthropic`, `openai-compatible`, or one a deployment
    registered). `api_key=None` means: the vendor's environment variable (`OPENAI_API_KEY`,
    `ANTHROPIC_API_KEY`); `openai-compatible` needs none. `base_url` points the SDK at another server
    (required for `openai-compatible`). `max_retries` is the SDK's retry budget for 429, 5xx, timeouts and
    connection errors, with exponential backoff (or the vendor's retry-after). `options` holds
    provider-specific settings (e.g. the mock's `stream_delay_seconds`).

    The api_key is a secret: `repr()` masks it, so a config can be logged.
    """

    provider: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.7
    max_tokens: int = 4096
    timeout_seconds: float = 60.0
    base_url: str | None = None
    max_retries: int = 2
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        from llm.providers.factory import provider_names

        known = provider_names()
        if self.provider not in known:
            raise LLMConfigError(
                "provider", f"unknown provider {self.provider!r}; known providers: {', '.join(known)}."
            )
        if not isinstance(self.model, str) or not self.model.strip():
            raise LLMConfigError("model", f"must be a non-empty model name, not {self.model!r}.")
        if self.api_key is not None and not isinstance(self.api_key, str):
            raise LLMConfigError("api_key", "must be a string or None.")
        if self.api_key == "":
            object.__setattr__(self, "api_key", None)
        object.__setattr__(self, "temperature", check_temperature(self.temperature))
        check_max_tokens(self.max_tokens)
        if not _is_number(self.timeout_seconds) or not 0 < self.timeout_seconds <= 3600:
            raise LLMConfigError(
                "timeout_seconds",
                f"must be a number of seconds greater than 0 and at most 3600, not {self.timeout_seconds!r}.",
            )
        object.__setattr__(self, "timeout_seconds", float(self.timeout_seconds))
        if (
            not isinstance(self.max_retries, int)
            or isinstance(self.max_retries, bool)
            or not 0 <= self.max_retries <= MAX_RETRIES_LIMIT
        ):
            raise LLMConfigError(
                "max_retries", f"must be a whole number from 0 to {MAX_RETRIES_LIMIT}, not {self.max_retries!r}."
            )
        if self.base_url is not None and (
            not isinstance(self.base_url, str) or not self.base_url.startswith(("http://", "https://"))
        ):
            raise LLMConfigError("base_url", f"must be an http:// or https:// URL, not {self.base_url!r}.")
        if self.base_url is None and self.provider in PROVIDERS_REQUIRING_BASE_URL:
            raise LLMConfigError(
                "base_url", f"is required for provider {self.provider!r} (e.g. http://localhost:11434/v1 for Ollama)."
            )
        if not isinstance(self.options, Mapping):
            raise LLMConfigError("options", f"must be a mapping, not {type(self.options).__name__}.")

    def __repr__(self) -> str:
        api_key = "None" if self.api_key is None else "'***'"
        return (
            f"LLMConfig(provider={self.provider!r}, model={self.model!r}, api_key={api_key}, "
            f"temperature={self.temperature!r}, max_tokens={self.max_tokens!r}, "
            f"timeout_seconds={self.timeout_seconds!r}, base_url={self.base_url!r}, "
            f"max_retries={self.max_retries!r}, options={dict(self.options)!r})"
        )

    __str__ = __repr__

    def replace(self, **changes: Any) -> LLMConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """One call, after the config defaults and the per-call overrides are merged. Providers receive this."""

    prompt: str
    system: str | None
    temperature: float
    max_tokens: int
    stop: tuple[str, ...] = ()
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: Any = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """The keyword overrides exactly as the caller gave them."""

    @property
    def prompt_text(self) -> str:
        """Everything the model reads, for token estimates."""
        return f"{self.system}\n\n{self.prompt}" if self.system else self.prompt


ALLOWED_OVERRIDES = frozenset({"temperature", "max_tokens", "stop", "system", "tools", "tool_choice"})


def build_request(config: LLMConfig, prompt: str, overrides: Mapping[str, Any]) -> LLMRequest:
    """Merge per-call keyword overrides into the config's defaults.

    Unknown keywords raise TypeError (a typo must not silently change nothing); out-of-range values raise
    LLMBadRequestError naming the argument, as the vendor would.
    """
    unknown = set(overrides) - ALLOWED_OVERRIDES
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(ALLOWED_OVERRIDES))}."
        )
    if not isinstance(prompt, str):
        raise LLMBadRequestError(f"prompt must be a string, not {type(prompt).__name__}.", provider=config.provider)
    try:
        temperature = overrides.get("temperature")
        temperature = config.temperature if temperature is None else check_temperature(temperature)
        max_tokens = overrides.get("max_tokens")
        max_tokens = config.max_tokens if max_tokens is None else check_max_tokens(max_tokens)
    except LLMConfigError as exc:
        raise LLMBadRequestError(str(exc), provider=config.provider) from None
    system = overrides.get("system")
    if system is not None and not isinstance(system, str):
        raise LLMBadRequestError(f"system must be a string, not {type(system).__name__}.", provider=config.provider)
    return LLMRequest(
        prompt=prompt,
        system=system or None,
        temperature=temperature,
        max_tokens=max_tokens,
        stop=_stop_sequences(overrides.get("stop"), config.provider),
        tools=tuple(overrides.get("tools") or ()),
        tool_choice=overrides.get("tool_choice"),
        overrides=dict(overrides),
    )


def _stop_sequences(stop: object, provider: str) -> tuple[str, ...]:
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,)
    if isinstance(stop, Sequence) and all(isinstance(item, str) and item for item in stop):
        return tuple(stop)
    raise LLMBadRequestError(f"stop must be a string or a list of non-empty strings, not {stop!r}.", provider=provider)


@dataclass(frozen=True, slots=True)
class LLMUsage:
    """Tokens of one call.

    `prompt_tokens` counts every input token, cached or not (for Anthropic: input + cache read + cache
    creation). `cache_read_tokens` and `cache_write_tokens` are the parts of `prompt_tokens` that were read
    from / written to the vendor's prompt cache; they are priced differently. `total_tokens` defaults to
    prompt + completion. This is the same split genai-prices uses (input_tokens ⊇ cache_read/cache_write).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __post_init__(self) -> None:
        if self.total_tokens == 0:
            object.__setattr__(self, "total_tokens", self.prompt_tokens + self.completion_tokens)

    def __add__(self, other: LLMUsage) -> LLMUsage:
        if not isinstance(other, LLMUsage):
            return NotImplemented
        return LLMUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class LLMResponse:
    """The answer to one call.

    `finish_reason` is one of `stop`, `length` (max_tokens reached), `tool_calls`, `error` (refused,
    filtered, failed or cancelled part-way). `metadata` holds what the four fields cannot say; keys set by
    the built-in providers:

    - `provider`: registered provider name; `response_id`: the vendor's id for this response.
    - `usage_source`: `vendor` | `estimated` | `none` (see UsageSource).
    - `vendor_finish_reason`: the vendor's own stop reason, before mapping.
    - `vendor_usage`: the usage object exactly as the vendor sent it (reasoning tokens etc.).
    - `tool_calls`: `[{"id", "name", "arguments"}]`, arguments as a JSON string, whatever the vendor.
    - `streamed`: True for a `generate_stream` result; `cancelled`: True when the caller closed it early;
      `error`: `{"type", "message"}` when a stream failed part-way.
    """

    content: str
    model: str
    usage: LLMUsage = field(default_factory=LLMUsage)
    finish_reason: FinishReason = "stop"
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.finish_reason not in FINISH_REASONS:
            raise ValueError(f"finish_reason must be one of {', '.join(FINISH_REASONS)}, not {self.finish_reason!r}.")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware (UTC).")

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return self.metadata.get("tool_calls", [])
