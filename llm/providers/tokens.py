"""Token estimates from text length, for the mock and for streams cut short before the vendor counted."""

from __future__ import annotations

CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text and code


def estimate_tokens(text: str) -> int:
    """About one token per four characters; at least one for any non-empty text."""
    if not text:
        return 0
    return max(1, -(-len(text) // CHARS_PER_TOKEN))
