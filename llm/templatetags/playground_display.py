"""Template filters for the playground: a unified diff as classified lines. Output is autoescaped."""

from __future__ import annotations

from django import template

register = template.Library()


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
