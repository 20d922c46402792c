"""Server-sent events: the wire format, and a streaming response that carries them.

    async def events():
        yield sse_event("chunk", {"text": "Hello"})
        yield sse_event("done", {"call_id": 41})

    return event_stream_response(events())

Every event's data is one line of JSON, so a client parses each with `JSON.parse(event.data)` and text
holding newlines needs no SSE multi-line handling. Shared by the playground page and the JSON API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Any

from django.http import StreamingHttpResponse

CONTENT_TYPE = "text/event-stream; charset=utf-8"


def sse_event(event: str, data: Any, *, event_id: str | None = None) -> str:
    """One event: `event: <name>`, an optional `id:`, and `data: <json>`, ended by a blank line."""
    if not event or any(c in event for c in "\r\n:"):
        raise ValueError(f"An SSE event name is one line without colons, not {event!r}.")
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    # json.dumps escapes newlines inside strings, so the data is a single line.
    lines.append(f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}")
    return "\n".join(lines) + "\n\n"


def sse_comment(text: str = "") -> str:
    """A comment line: clients ignore it; it keeps proxies from closing an idle stream."""
    return f": {text}\n\n" if text else ":\n\n"


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs from a complete event-stream body, data decoded from JSON (for tests and clients)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data_lines = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data_lines.append(line[len("data:") :].removeprefix(" "))
        if data_lines:
            events.append((name, json.loads("\n".join(data_lines))))
    return events


def event_stream_response(events: AsyncIterable[str], *, status: int = 200) -> StreamingHttpResponse:
    """A `text/event-stream` response of `events`, with the headers that keep proxies and caches out of the way."""
    response = StreamingHttpResponse(events, content_type=CONTENT_TYPE, status=status)
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
