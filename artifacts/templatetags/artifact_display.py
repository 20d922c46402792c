"""Template filters for showing artifacts: a readable label and metadata values. Output is autoescaped."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()

LABEL_KEYS = ("title", "filename", "file", "path", "name")


@register.filter
def artifact_label(metadata: Any) -> str:
    """A short human label from the artifact's metadata (title, file name…), or ''."""
    if isinstance(metadata, dict):
        for key in LABEL_KEYS:
            value = metadata.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:120]
    return ""


@register.filter
def metadata_value(value: Any) -> str:
    """A metadata value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2 if isinstance(value, dict | list) else None)
