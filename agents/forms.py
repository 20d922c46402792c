from __future__ import annotations

from typing import Any

from django import forms

from agents.runs import MAX_SPECIFICATION_CHARS
from llm.models import ProviderConfig


class StartWorkflowForm(forms.Form):
    specification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What should the agents build?"}),
        max_length=MAX_SPECIFICATION_CHARS,
        strip=True,
    )
    provider = forms.ChoiceField(help_text="The provider config every agent of the run calls.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = ProviderConfig.objects.filter(enabled=True).order_by("name").values_list("name", flat=True)
        self.fields["provider"].choices = [(name, name) for name in names]
