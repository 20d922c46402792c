"""Server-side syntax highlighting of artifact content with Pygments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_filename, guess_lexer
from pygments.util import ClassNotFound

# Past this size the page shows plain text of the first part; the raw download has the whole.
MAX_HIGHLIGHT_CHARS = 300_000
# How much of the content the artifact page reads at most (UTF-8 bytes).
MAX_HIGHLIGHT_BYTES = 4 * MAX_HIGHLIGHT_CHARS
_GUESS_SAMPLE_CHARS = 4_000

# The lexer for an artifact type when its metadata names no language or file.
TYPE_LANGUAGES = {
    "test_data": "json",
    "config": "yaml",
    "deployment": "yaml",
    "review": "markdown",
    "monitoring_report": "markdown",
}
_GUESSED_TYPES = {"code", "test"}


@dataclass(frozen=True, slots=True)
class HighlightedContent:
    html: SafeString
    language: str
    truncated: bool
    line_count: int


def choose_lexer(*, content: str, metadata: dict[str, Any], artifact_type: str) -> Lexer:
    """From metadata.language, then a file name in metadata, then the artifact type; plain text otherwise."""
    language = metadata.get("language")
    if isinstance(language, str) and language.strip():
        try:
            return get_lexer_by_name(language.strip().lower())
        except ClassNotFound:
            pass
    for key in ("filename", "file", "path"):
        name = metadata.get(key)
        if isinstance(name, str) and name.strip():
            try:
                return get_lexer_for_filename(name.strip(), code=content[:_GUESS_SAMPLE_CHARS])
            except ClassNotFound:
                pass
    if artifact_type in TYPE_LANGUAGES:
        if artifact_type == "test_data" and not content.lstrip().startswith(("{", "[")):
            return TextLexer()
        return get_lexer_by_name(TYPE_LANGUAGES[artifact_type])
    if artifact_type in _GUESSED_TYPES and content.strip():
        try:
            return guess_lexer(content[:_GUESS_SAMPLE_CHARS])
        except ClassNotFound:
            pass
    return TextLexer()


def highlight_content(
    *, content: str, metadata: dict[str, Any], artifact_type: str, complete: bool = True
) -> HighlightedContent:
    """`content` may be only the start of the artifact (`complete=False`); it is then shown as plain text."""
    truncated = not complete or len(content) > MAX_HIGHLIGHT_CHARS
    shown = content[:MAX_HIGHLIGHT_CHARS]
    lexer = TextLexer() if truncated else choose_lexer(content=shown, metadata=metadata, artifact_type=artifact_type)
    formatter = HtmlFormatter(linenos="table", cssclass="highlight", lineanchors="L", anchorlinenos=True, wrapcode=True)
    return HighlightedContent(
        html=_trusted_pygments_markup(highlight(shown, lexer, formatter)),
        language=lexer.name,
        truncated=truncated,
        line_count=shown.count("\n") + (0 if shown.endswith("\n") else 1),
    )


def _trusted_pygments_markup(html: str) -> SafeString:
    # Pygments HTML-escapes every character of the source text it formats (&, <, >, ", ') and
    # emits only its own span/table/anchor markup with fixed class names, so its output is safe to
    # insert unescaped. Never pass anything but HtmlFormatter output here.
    return mark_safe(html)  # noqa: S308
