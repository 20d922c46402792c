"""The artifact list's filters, parsed from the query string."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms

from artifacts.queries import MAX_SEARCH_LENGTH, ArtifactFilters
from artifacts.store.artifact import MAX_ID_LENGTH, artifact_types


class ArtifactFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=MAX_SEARCH_LENGTH, label="Search content")
    workflow = forms.CharField(required=False, max_length=MAX_ID_LENGTH)
    task = forms.CharField(required=False, max_length=MAX_ID_LENGTH)
    agent = forms.CharField(required=False, max_length=MAX_ID_LENGTH)
    type = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    # The query-string names, in the order a canonical URL lists them.
    FIELDS = ("q", "workflow", "task", "agent", "type", "since", "until")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "any type"), *((t, t) for t in artifact_types())]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

    def filters(self) -> ArtifactFilters:
        """The filters the valid fields ask for; call after is_valid()."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        since, until = data.get("since"), data.get("until")
        return ArtifactFilters(
            workflow_id=data.get("workflow") or None,
            task_id=data.get("task") or None,
            agent_id=data.get("agent") or None,
            artifact_type=data.get("type") or None,
            q=data.get("q") or None,
            since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
            # The end date is inclusive: everything before the next midnight.
            until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None,
        )

    def active(self) -> dict[str, str]:
        """The non-empty, valid filters as query-string pairs, in a stable order."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {name: str(data[name]) for name in self.FIELDS if data.get(name)}


class WorkflowSearchForm(forms.Form):
    """The workflow list's search box: part of a workflow id."""

    q = forms.CharField(required=False, max_length=MAX_SEARCH_LENGTH, label="Search workflows")

    def search(self) -> str:
        """The valid search text, or "" (a value the form refuses is dropped, with its error shown)."""
        return (self.cleaned_data.get("q") or "") if self.is_valid() else ""
