"""The usage pages' filters, parsed from the query string."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms

from artifacts.store.artifact import artifact_types
from llm.models import CallStatus, ProviderConfig
from llm.playground import MAX_OUTPUT_TOKENS, MAX_PROMPT_CHARS, PLAYGROUND_AGENT, PlaygroundRun
from llm.providers.config import MAX_TEMPERATURE
from llm.usage import CallFilters

ID_LENGTH = 200
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
DEFAULT_PERIOD = "30d"


class _QueryForm(forms.Form):
    FIELDS: tuple[str, ...] = ()

    def data_or_empty(self) -> dict[str, Any]:
        return self.cleaned_data if hasattr(self, "cleaned_data") else {}

    def active(self) -> dict[str, str]:
        """The non-empty, valid filters as query-string pairs, in a stable order."""
        data = self.data_or_empty()
        return {name: str(data[name]) for name in self.FIELDS if data.get(name)}


class UsageFilterForm(_QueryForm):
    period = forms.ChoiceField(choices=[(p, p) for p in PERIODS], required=False)
    agent = forms.CharField(required=False, max_length=ID_LENGTH)
    workflow = forms.CharField(required=False, max_length=ID_LENGTH)
    provider = forms.CharField(required=False, max_length=64)
    model = forms.CharField(required=False, max_length=ID_LENGTH)

    FIELDS = ("period", "agent", "workflow", "provider", "model")

    def chosen_period(self) -> str:
        return self.data_or_empty().get("period") or DEFAULT_PERIOD

    def hourly(self) -> bool:
        return self.chosen_period() == "24h"

    def usage_filters(self, *, now: datetime) -> dict[str, Any]:
        """Keyword arguments for the llm.usage functions."""
        data = self.data_or_empty()
        # Start on a whole hour (24 h) or day, as the chart's first bar does, so every figure on the
        # page covers the same calls.
        since = (now - PERIODS[self.chosen_period()]).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if not self.hourly():
            since = since.replace(hour=0)
        return {
            "since": since,
            "until": now,
            "agent_id": data.get("agent") or None,
            "workflow_id": data.get("workflow") or None,
            "provider": data.get("provider") or None,
            "model": data.get("model") or None,
        }


class CallFilterForm(_QueryForm):
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *CallStatus.choices])
    agent = forms.CharField(required=False, max_length=ID_LENGTH)
    workflow = forms.CharField(required=False, max_length=ID_LENGTH)
    task = forms.CharField(required=False, max_length=ID_LENGTH)
    provider = forms.CharField(required=False, max_length=64)
    model = forms.CharField(required=False, max_length=ID_LENGTH)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    FIELDS = ("status", "agent", "workflow", "task", "provider", "model", "since", "until")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
            cleaned.pop("until")
        return cleaned

    def filters(self) -> CallFilters:
        data = self.data_or_empty()
        since, until = data.get("since"), data.get("until")
        return CallFilters(
            status=data.get("status") or None,
            agent_id=data.get("agent") or None,
            workflow_id=data.get("workflow") or None,
            task_id=data.get("task") or None,
            provider=data.get("provider") or None,
            model=data.get("model") or None,
            since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
            until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None,
        )


# The playground


class _PromptForm(forms.Form):
    """What every playground column runs: the prompts, the per-run overrides, and where the calls are filed."""

    system = forms.CharField(
        label="System prompt",
        required=False,
        strip=False,
        max_length=MAX_PROMPT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Optional: how the model should behave"}),
    )
    prompt = forms.CharField(
        label="Prompt",
        strip=False,
        max_length=MAX_PROMPT_CHARS,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "What to ask every selected provider"}),
        error_messages={"required": "Write a prompt to run."},
    )
    temperature = forms.FloatField(
        required=False,
        min_value=0.0,
        max_value=MAX_TEMPERATURE,
        widget=forms.NumberInput(attrs={"step": "0.1", "placeholder": "config's"}),
        help_text=f"0 to {MAX_TEMPERATURE:g}; empty: each config's own.",
    )
    max_tokens = forms.IntegerField(
        label="Max tokens",
        required=False,
        min_value=1,
        max_value=MAX_OUTPUT_TOKENS,
        widget=forms.NumberInput(attrs={"placeholder": "config's"}),
        help_text=f"1 to {MAX_OUTPUT_TOKENS:,}; empty: each config's own.",
    )
    workflow = forms.CharField(
        required=False,
        max_length=ID_LENGTH,
        help_text="The workflow the calls are filed under; empty: this session's.",
    )
    replay = forms.CharField(required=False, max_length=ID_LENGTH, widget=forms.HiddenInput)

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"]
        if not prompt.strip():
            raise forms.ValidationError("Write a prompt to run.")
        if "\x00" in prompt:
            raise forms.ValidationError("The prompt must not contain NUL characters.")
        return prompt

    def clean_system(self) -> str:
        system = self.cleaned_data["system"]
        if "\x00" in system:
            raise forms.ValidationError("The system prompt must not contain NUL characters.")
        return system

    def clean_workflow(self) -> str:
        workflow = self.cleaned_data["workflow"].strip()
        if "\x00" in workflow:
            raise forms.ValidationError("A workflow id must not contain NUL characters.")
        return workflow

    def playground_run(self, *, default_workflow: str, task_id: str) -> PlaygroundRun:
        data = self.cleaned_data
        return PlaygroundRun(
            prompt=data["prompt"],
            system=data["system"],
            temperature=data["temperature"],
            max_tokens=data["max_tokens"],
            workflow_id=data["workflow"] or default_workflow,
            task_id=task_id,
        )


class PlaygroundForm(_PromptForm):
    """The playground page: several configs at once."""

    configs = forms.ModelMultipleChoiceField(
        label="Providers",
        queryset=ProviderConfig.objects.filter(enabled=True).order_by("name"),
        to_field_name="name",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one provider config."},
    )

    field_order = ["configs", "system", "prompt", "temperature", "max_tokens", "workflow", "replay"]

    def __init__(self, *args: Any, session_workflow: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        configs: forms.ModelMultipleChoiceField = self.fields["configs"]  # type: ignore[assignment]
        configs.label_from_instance = lambda config: f"{config.name} · {config.provider}/{config.model}"
        if session_workflow:
            self.fields["workflow"].widget.attrs["placeholder"] = session_workflow


class ColumnForm(_PromptForm):
    """One column's stream: one config, and the run it belongs to."""

    config = forms.CharField(max_length=100, error_messages={"required": "Choose a provider config."})
    run = forms.RegexField(
        required=False,
        regex=r"^[A-Za-z0-9._-]{1,64}$",
        error_messages={"invalid": "A run id is up to 64 letters, digits, dots, dashes or underscores."},
    )

    def clean_config(self) -> ProviderConfig:
        name = self.cleaned_data["config"]
        config = ProviderConfig.objects.filter(name=name).first()
        if config is None:
            raise forms.ValidationError(f"No provider config is named {name!r}.")
        if not config.enabled:
            raise forms.ValidationError(f"Provider config {name!r} is disabled; enable it in the admin to run it.")
        return config


class SaveArtifactForm(forms.Form):
    """Save a playground column's output: the call names the content, the operator files it."""

    call_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    artifact_type = forms.ChoiceField(label="Type", choices=())
    workflow = forms.CharField(max_length=ID_LENGTH)
    task = forms.CharField(max_length=ID_LENGTH)
    agent = forms.CharField(max_length=ID_LENGTH, initial=PLAYGROUND_AGENT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["artifact_type"].choices = [(name, name) for name in artifact_types()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in ("workflow", "task", "agent"):
            if "\x00" in cleaned.get(name, ""):
                self.add_error(name, "Ids must not contain NUL characters.")
        return cleaned
