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


@register.filter
def diff_lines(diff: str | None) -> list[tuple[str, str]]:
    """(kind, line) pairs of a unified diff; kind is file, hunk, add, del or same."""
    rows = []
    for line in (diff or "").splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        rows.append((kind, line))
    return rows
