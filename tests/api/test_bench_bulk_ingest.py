"""The benchmark command runs end to end on a small count (the real figures come from 100,000)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_prints_both_rates_and_the_ratio(capfd) -> None:
    call_command("bench_bulk_ingest", count=2000, workers=1, clients=2)
    out = capfd.readouterr().out
    assert re.search(r"API bulk .*rows/s", out)
    assert re.search(r"COPY .*rows/s", out)
    assert re.search(r"API / COPY: \d+\.\d\d", out)
