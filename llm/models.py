"""The call ledger's tables: configured providers, one row per LLM call, and an hourly rollup.

`LLMUsageHourly` is maintained by a PostgreSQL trigger on `LLMCall` (migration 0002), so every
write path — the recording wrapper, the admin, bulk loads — keeps it exact; the usage queries read
it for whole hours and the raw rows only for the partial hours at the edges of a range.
"""

from __future__ import annotations

import os
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from llm.key_encryption import decrypt_api_key, encrypt_api_key, mask_api_key
from llm.provider_urls import UnsafeProviderURLError, check_provider_base_url

ID_LENGTH = 200
# Costs are USD with sub-micro-dollar precision: a single cached token can cost $0.0000000375.
COST_FIELD = {"max_digits": 20, "decimal_places": 10}
PRICE_FIELD = {"max_digits": 12, "decimal_places": 6, "null": True, "blank": True}


class ProviderConfig(models.Model):
    """A named, ready-to-use provider: `llm.configured.provider_for(name)` turns it into a provider."""

    name = models.SlugField(max_length=100, unique=True, help_text="What code asks for: provider_for(name).")
    provider = models.CharField(max_length=64, help_text="mock, openai, anthropic, openai-compatible, …")
    model = models.CharField(max_length=200)
    base_url = models.URLField(blank=True, help_text="Required for openai-compatible (Ollama, vLLM, …).")
    temperature = models.FloatField(default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)])
    max_tokens = models.PositiveIntegerField(default=4096, validators=[MinValueValidator(1)])
    timeout_seconds = models.FloatField(default=60.0, validators=[MinValueValidator(0.1)])
    max_retries = models.PositiveSmallIntegerField(default=2)
    enabled = models.BooleanField(default=True)
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text='Provider-specific settings as a JSON object, e.g. {"stream_delay_seconds": 0.05} for the mock.',
    )

    api_key_env = models.CharField(
        "API key environment variable",
        max_length=200,
        blank=True,
        help_text="The name of an environment variable holding the key, e.g. OPENAI_API_KEY.",
    )
    # A key pasted in the admin: Fernet-encrypted; only the masked hint is ever shown back.
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_hint = models.CharField("stored key", max_length=40, blank=True, editable=False)

    cache_enabled = models.BooleanField("cache responses", default=False)
    cache_ttl_seconds = models.PositiveIntegerField("cache TTL (seconds)", default=3600)

    requests_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    tokens_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Counted from recorded usage. Empty: no limit."
    )
    rate_limit_max_wait_seconds = models.FloatField(
        default=30.0,
        validators=[MinValueValidator(0.0)],
        help_text="How long a caller over a limit waits for room before it gets the rate-limit error.",
    )

    input_price_per_million = models.DecimalField(
        **PRICE_FIELD, help_text="USD per million input tokens; empty: genai-prices."
    )
    output_price_per_million = models.DecimalField(
        **PRICE_FIELD, help_text="USD per million output tokens; empty: genai-prices."
    )
    cache_read_price_per_million = models.DecimalField(
        **PRICE_FIELD, help_text="USD per million prompt-cache read tokens; empty: the input price."
    )
    cache_write_price_per_million = models.DecimalField(
        **PRICE_FIELD, help_text="USD per million prompt-cache write tokens; empty: the input price."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "provider config"
        constraints = [
            models.CheckConstraint(
                condition=~(Q(api_key_env__gt="") & Q(api_key_encrypted__gt="")),
                name="providerconfig_one_key_source",
                violation_error_message="Give either an environment variable or a stored key, not both.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<ProviderConfig {self.name!r} {self.provider}/{self.model}>"

    def clean(self) -> None:
        if not isinstance(self.options, dict):
            raise ValidationError({"options": "Options are a JSON object, e.g. {}."})
        if self.provider == "openai-compatible" and not self.base_url:
            raise ValidationError({"base_url": "openai-compatible needs the server's base URL."})
        if self.base_url:
            try:
                check_provider_base_url(self.base_url)
            except UnsafeProviderURLError as exc:
                raise ValidationError({"base_url": str(exc)}) from None
        if (self.input_price_per_million is None) != (self.output_price_per_million is None):
            raise ValidationError("Override both the input and the output price, or neither.")
        if self.api_key_env and self.api_key_encrypted:
            raise ValidationError("Give either an environment variable or a stored key, not both.")

    @property
    def has_price_override(self) -> bool:
        return self.input_price_per_million is not None and self.output_price_per_million is not None

    def set_api_key(self, raw_key: str | None) -> None:
        """Store `raw_key` encrypted (None or blank removes it); the caller saves."""
        if raw_key and raw_key.strip():
            self.api_key_encrypted = encrypt_api_key(raw_key.strip())
            self.api_key_hint = mask_api_key(raw_key)
            self.api_key_env = ""
        else:
            self.api_key_encrypted = ""
            self.api_key_hint = ""

    def resolve_api_key(self) -> str | None:
        """The key to send to the vendor: the stored one, else the named environment variable's value."""
        if self.api_key_encrypted:
            return decrypt_api_key(self.api_key_encrypted)
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return None

    @property
    def key_source(self) -> str:
        """How the key is configured, safe to show: the masked hint or the variable's name."""
        if self.api_key_encrypted:
            return f"stored ({self.api_key_hint})"
        if self.api_key_env:
            return f"${self.api_key_env}" + ("" if os.environ.get(self.api_key_env) else " (not set)")
        return "none"


class CallStatus(models.TextChoices):
    OK = "ok"
    ERROR = "error"
    CACHED = "cached"
    # A stream the caller stopped reading; its tokens were still spent and are recorded.
    CANCELLED = "cancelled"


class UsageSource(models.TextChoices):
    VENDOR = "vendor", "reported by the vendor"
    ESTIMATED = "estimated", "estimated from the text"
    NONE = "none", "nothing spent (never reached the vendor)"


class PriceSource(models.TextChoices):
    GENAI_PRICES = "genai-prices"
    CONFIG = "config", "config override"
    CACHE = "cache", "our cache (free)"
    UNKNOWN = "unknown", "no known price"


class LLMCall(models.Model):
    """One LLM call as the ledger saw it. Write-once; cost is None when no price is known."""

    created_at = models.DateTimeField(help_text="When the call started.")
    config = models.ForeignKey(ProviderConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    # Kept by name too, so history survives the config being deleted.
    config_name = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=200)

    system = models.TextField(blank=True)
    prompt = models.TextField(blank=True)
    response = models.TextField(blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)

    prompt_tokens = models.PositiveIntegerField(default=0, help_text="All input tokens, prompt-cache tokens included.")
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0, help_text="Vendor prompt-cache reads.")
    cache_write_tokens = models.PositiveIntegerField(default=0, help_text="Vendor prompt-cache writes.")
    usage_source = models.CharField(max_length=16, choices=UsageSource, default=UsageSource.VENDOR)

    cost_usd = models.DecimalField(**COST_FIELD, null=True, blank=True)
    saved_usd = models.DecimalField(
        **COST_FIELD, null=True, blank=True, help_text="For cache hits: what the original call cost."
    )
    price_source = models.CharField(max_length=16, choices=PriceSource, default=PriceSource.UNKNOWN)

    status = models.CharField(max_length=16, choices=CallStatus)
    error_class = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    streamed = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    time_to_first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    request_params = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    cache_key = models.CharField(max_length=64, blank=True)
    cached_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    agent_id = models.CharField(max_length=ID_LENGTH, blank=True, default="")
    workflow_id = models.CharField(max_length=ID_LENGTH, blank=True, default="")
    task_id = models.CharField(max_length=ID_LENGTH, blank=True, default="")

    class Meta:
        verbose_name = "LLM call"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="llmcall_created_idx"),
            models.Index(fields=["workflow_id", "created_at", "id"], name="llmcall_workflow_idx"),
            models.Index(fields=["agent_id", "created_at", "id"], name="llmcall_agent_idx"),
            models.Index(fields=["config", "created_at"], name="llmcall_config_idx"),
            models.Index(fields=["created_at", "id"], condition=Q(status="error"), name="llmcall_errors_idx"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} {self.provider}/{self.model} {self.status}"

    @property
    def cost_known(self) -> bool:
        return self.cost_usd is not None


class LLMUsageHourly(models.Model):
    """Per hour and (config, provider, model, agent, workflow): sums of LLMCall, kept by a trigger.

    Tokens and cost count what the vendor consumed: cache hits add to `cached_calls` and `saved_usd`
    only. `cost_usd` sums the calls with a known price; `unknown_cost_calls` says how many had none.
    """

    hour = models.DateTimeField()
    config_name = models.CharField(max_length=100)
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    agent_id = models.CharField(max_length=ID_LENGTH)
    workflow_id = models.CharField(max_length=ID_LENGTH)

    # integer, not bigint: PostgreSQL sums integers into bigint but bigints into numeric, which is
    # several times slower; one row (an hour of one agent in one workflow on one model) stays far
    # below 2**31 tokens.
    calls = models.IntegerField(default=0)
    error_calls = models.IntegerField(default=0)
    cached_calls = models.IntegerField(default=0)
    unknown_cost_calls = models.IntegerField(default=0)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    total_tokens = models.IntegerField(default=0)
    cache_read_tokens = models.IntegerField(default=0)
    cache_write_tokens = models.IntegerField(default=0)
    cost_usd = models.DecimalField(**COST_FIELD, default=Decimal(0))
    saved_usd = models.DecimalField(**COST_FIELD, default=Decimal(0))
    first_call_at = models.DateTimeField()
    last_call_at = models.DateTimeField()

    class Meta:
        verbose_name = "hourly usage"
        verbose_name_plural = "hourly usage"
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "config_name", "provider", "model", "agent_id", "workflow_id"],
                name="llmusagehourly_key",
            ),
        ]
        indexes = [
            models.Index(fields=["workflow_id", "hour"], name="llmusage_workflow_idx"),
            models.Index(fields=["agent_id", "hour"], name="llmusage_agent_idx"),
            models.Index(fields=["config_name", "hour"], name="llmusage_config_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.config_name} {self.model}"


class RateLimitSlot(models.Model):
    """One request start against a config with a requests-per-minute limit (the sliding window's log).

    Rows older than the window are deleted as new ones are taken; see llm/rate_limits.py.
    """

    config = models.ForeignKey(ProviderConfig, on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["config", "taken_at"], name="ratelimitslot_config_idx")]

    def __str__(self) -> str:
        return f"{self.config_id} @ {self.taken_at}"
