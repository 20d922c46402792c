from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from artifacts.models import ArtifactContentChunk, ArtifactRecord


@pytest.mark.django_db
def test_the_benchmark_saves_streams_back_and_cleans_up(settings) -> None:
    out = StringIO()
    call_command("bench_large_artifact", "--size-mb", "2", stdout=out)
    assert "placement: database_chunks, zstd; content: 2 MiB" in out.getvalue()
    assert "peak RSS +" in out.getvalue() and "content verified by SHA-256" in out.getvalue()
    assert ArtifactRecord.all_objects.count() == 0
    assert ArtifactContentChunk.objects.count() == 0
