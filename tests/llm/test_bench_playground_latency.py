from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from llm.models import LLMCall, ProviderConfig


@pytest.mark.django_db(transaction=True)
def test_it_prints_the_overhead_per_column_count_and_cleans_up(settings) -> None:
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    configs_before = set(ProviderConfig.objects.values_list("name", flat=True))
    out = StringIO()
    call_command("bench_playground_latency", runs=2, delay=0.001, columns=[1, 2], stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Playground stream latency: a mock config streaming one chunk every 1 ms")
    assert lines[1].split()[:3] == ["columns", "streams", "chunks"]
    assert [line.split()[:3] for line in lines[2:]] == [["1", "2", "32"], ["2", "4", "64"]]
    assert all(line.count(" ms") == 5 for line in lines[2:])
    assert set(ProviderConfig.objects.values_list("name", flat=True)) == configs_before
    assert not LLMCall.objects.exists()
