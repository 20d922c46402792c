"""The usage pages' filters, parsed from the query string."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms

from llm.models import CallStatus
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
