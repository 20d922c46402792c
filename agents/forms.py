from __future__ import annotations

from django import forms

from agents.runs import MAX_SPECIFICATION_CHARS
from llm.models import ProviderConfig


class StartWorkflowForm(forms.Form):
    specification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What should the agents build?"}),
        max_length=MAX_SPECIFICATION_CHARS,
        strip=True,
    )
    provider = forms.ModelChoiceField(
        queryset=ProviderConfig.objects.filter(enabled=True).order_by("name"),
        to_field_name="name",
        empty_label=None,
        help_text="The provider config every agent of the run calls.",
    )
