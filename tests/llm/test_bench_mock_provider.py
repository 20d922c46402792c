from __future__ import annotations

from io import StringIO

from django.core.management import call_command


def test_it_prints_calls_per_second_and_microseconds_per_call():
    out = StringIO()
    call_command("bench_mock_provider", calls=20, streams=5, repeat=1, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["case", "calls", "calls/s", "µs/call"]
    assert [line.split("  ")[0] for line in lines[1:]] == [
        "generate (default pytest file)",
        "generate (queued response)",
        "generate_stream, read to end (59 chunks)",
        "generate_stream, closed after 1 chunk",
    ]
