"""The server-sent-event format the playground (and the API) stream."""

from __future__ import annotations

import pytest

from llm.sse import parse_sse, sse_comment, sse_event


def test_an_event_is_its_name_and_one_line_of_json() -> None:
    assert sse_event("chunk", {"text": "a\nb «c»"}) == 'event: chunk\ndata: {"text":"a\\nb «c»"}\n\n'
    assert sse_event("done", {"call_id": 4}, event_id="7") == 'event: done\nid: 7\ndata: {"call_id":4}\n\n'


@pytest.mark.parametrize("name", ["", "two\nlines", "a:b"])
def test_an_event_name_must_be_one_plain_line(name: str) -> None:
    with pytest.raises(ValueError, match="SSE event name"):
        sse_event(name, {})


def test_parsing_reads_back_what_was_written_and_skips_comments() -> None:
    body = sse_event("start", {"config": "mock"}) + sse_comment("keep-alive") + sse_event("chunk", {"text": "\n\n"})
    assert parse_sse(body) == [("start", {"config": "mock"}), ("chunk", {"text": "\n\n"})]
    assert parse_sse(body.replace("\n", "\r\n")) == parse_sse(body)
