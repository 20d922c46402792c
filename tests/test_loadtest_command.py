"""`manage.py loadtest` runs every scenario against the production server and reports its figures."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.processes import ROOT


def test_it_reports_rate_latency_errors_and_memory_per_scenario() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "loadtest", "--seconds", "0.5", "--workers", "1", "--connections", "2",
         "--artifacts", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        match["name"].strip(): match
        for match in re.finditer(
            r"^(?P<name>[a-zA-Z ()]+?)\s+(?P<requests>[\d,]+)\s+(?P<rps>[\d,]+)\s+[\d.]+\s+[\d.]+\s+(?P<errors>\d+)"
            r"\s+(?P<rss>[\d ]+→[\d ]+→[\d ]+)$",
            result.stdout,
            re.M,
        )
    }
    assert {"artifact list page", "artifact API list"} <= rows.keys(), result.stdout
    for row in rows.values():
        assert row["errors"] == "0" and int(row["requests"].replace(",", "")) > 0
    assert "mock generate (API)" in result.stdout  # measured, or skipped on an API without it
