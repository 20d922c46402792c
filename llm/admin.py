"""Admin for provider configs (keys go in, only a masked hint comes out) and the call ledger (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Max, QuerySet
from django.http import HttpRequest

from llm.models import LLMCall, LLMUsageHourly, ProviderConfig
from llm.providers import provider_names


class ProviderConfigForm(forms.ModelForm):
    provider = forms.ChoiceField(choices=())
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        # render_value=False: a stored key never travels back to the browser, not even encrypted.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Paste a key to store it encrypted; leave empty to keep the stored key.",
    )
    clear_api_key = forms.BooleanField(label="Remove the stored key", required=False)

    class Meta:
        model = ProviderConfig
        fields = [
            "name",
            "provider",
            "model",
            "base_url",
            "enabled",
            "api_key_env",
            "temperature",
            "max_tokens",
            "timeout_seconds",
            "max_retries",
            "options",
            "cache_enabled",
            "cache_ttl_seconds",
            "requests_per_minute",
            "tokens_per_minute",
            "rate_limit_max_wait_seconds",
            "input_price_per_million",
            "output_price_per_million",
            "cache_read_price_per_million",
            "cache_write_price_per_million",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = provider_names()
        if self.instance.provider and self.instance.provider not in names:
            names = [*names, self.instance.provider]
        self.fields["provider"].choices = [(name, name) for name in names]

    def clean(self) -> dict:
        cleaned = super().clean()
        new_key = cleaned.get("api_key")
        if new_key and cleaned.get("api_key_env"):
            raise forms.ValidationError("Give either an environment variable or a key to store, not both.")
        if new_key and cleaned.get("clear_api_key"):
            raise forms.ValidationError("Paste a new key or remove the stored one, not both.")
        if cleaned.get("api_key_env") and self.instance.api_key_encrypted and not cleaned.get("clear_api_key"):
            raise forms.ValidationError(
                "This config has a stored key: tick “Remove the stored key” to use an environment variable instead."
            )
        return cleaned

    def _post_clean(self) -> None:
        # Apply the key before the model's own validation, which checks there is one source only.
        if self.cleaned_data.get("api_key"):
            self.instance.set_api_key(self.cleaned_data["api_key"])
        elif self.cleaned_data.get("clear_api_key"):
            self.instance.set_api_key(None)
        super()._post_clean()


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    form = ProviderConfigForm
    list_display = [
        "name",
        "provider",
        "model",
        "enabled",
        "key_source",
        "cache_enabled",
        "requests_per_minute",
        "tokens_per_minute",
        "price_override",
    ]
    list_filter = ["provider", "enabled", "cache_enabled"]
    search_fields = ["name", "model"]
    readonly_fields = ["key_source", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "provider", "model", "base_url", "enabled"]}),
        ("Key", {"fields": ["key_source", "api_key", "clear_api_key", "api_key_env"]}),
        ("Generation", {"fields": ["temperature", "max_tokens", "timeout_seconds", "max_retries", "options"]}),
        ("Cache", {"fields": ["cache_enabled", "cache_ttl_seconds"]}),
        ("Rate limits", {"fields": ["requests_per_minute", "tokens_per_minute", "rate_limit_max_wait_seconds"]}),
        (
            "Prices (USD per million tokens; empty: genai-prices)",
            {
                "fields": [
                    "input_price_per_million",
                    "output_price_per_million",
                    "cache_read_price_per_million",
                    "cache_write_price_per_million",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="key")
    def key_source(self, config: ProviderConfig) -> str:
        return config.key_source

    @admin.display(description="price", boolean=False)
    def price_override(self, config: ProviderConfig) -> str:
        if not config.has_price_override:
            return "genai-prices"
        return f"${config.input_price_per_million} / ${config.output_price_per_million} per M"


class _RecentValuesFilter(admin.SimpleListFilter):
    """Choices from the hourly rollup (small) rather than DISTINCT over every call, most recent first."""

    column = ""
    limit = 50

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        recent = (
            LLMUsageHourly.objects.values(self.column)
            .annotate(last=Max("last_call_at"))
            .order_by("-last")
            .values_list(self.column, flat=True)[: self.limit]
        )
        return [(value, value or "(none)") for value in recent]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        return queryset.filter(**{self.column: self.value()})


class ProviderFilter(_RecentValuesFilter):
    title = parameter_name = "provider"
    column = "provider"


class ModelFilter(_RecentValuesFilter):
    title = parameter_name = "model"
    column = "model"


class AgentFilter(_RecentValuesFilter):
    title = "agent"
    parameter_name = column = "agent_id"


class WorkflowFilter(_RecentValuesFilter):
    title = "workflow (recent)"
    parameter_name = column = "workflow_id"


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "config_name",
        "provider",
        "model",
        "status",
        "agent_id",
        "workflow_id",
        "total_tokens",
        "cost",
        "latency_ms",
        "streamed",
    ]
    list_filter = [
        "status",
        ("created_at", admin.DateFieldListFilter),
        ProviderFilter,
        ModelFilter,
        AgentFilter,
        WorkflowFilter,
        "streamed",
    ]
    search_fields = ["=workflow_id", "=agent_id", "=task_id", "=config_name"]
    list_select_related = False
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    fieldsets = [
        (None, {"fields": ["created_at", "status", "config", "config_name", "provider", "model", "streamed"]}),
        ("Attribution", {"fields": ["agent_id", "workflow_id", "task_id"]}),
        (
            "Usage and cost",
            {
                "fields": [
                    "prompt_tokens",
                    "completion_tokens",
                    "total_tokens",
                    "cache_read_tokens",
                    "cache_write_tokens",
                    "usage_source",
                    "cost",
                    "saved_usd",
                    "price_source",
                    "latency_ms",
                    "time_to_first_token_ms",
                ]
            },
        ),
        ("Request", {"fields": ["system", "prompt", "request_params", "cache_key", "cached_from"]}),
        ("Response", {"fields": ["response", "finish_reason", "error_class", "error_message", "metadata"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("system", "prompt", "response", "request_params", "metadata")
        return queryset

    def get_readonly_fields(self, request: HttpRequest, obj: LLMCall | None = None) -> list[str]:
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the ledger is written by the recording wrapper only

    def has_change_permission(self, request: HttpRequest, obj: LLMCall | None = None) -> bool:
        return False

    @admin.display(description="cost (USD)", ordering="cost_usd")
    def cost(self, call: LLMCall) -> str:
        if call.cost_usd is None:
            return "unknown"
        return f"${call.cost_usd.normalize():f}"
