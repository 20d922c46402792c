"""The embedded PostgreSQL: processes that start at once share one server, and the last one stops it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil

from tests.processes import ROOT

# Start (or join) the server in a data folder, prove it answers, and hold it a moment so the
# processes overlap.
JOIN_AND_QUERY = """
import sys, time, psycopg
from pathlib import Path
from conductor_site.embedded_db import embedded_database_url
url = embedded_database_url(Path(sys.argv[1]))
with psycopg.connect(url) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS hits (pid int)")
    conn.execute("INSERT INTO hits VALUES (%s)", [__import__("os").getpid()])
    conn.commit()
    print(conn.execute("SELECT count(*) FROM hits").fetchone()[0])
time.sleep(1)
"""


def start(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", JOIN_AND_QUERY, str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def servers_on(data_dir: Path) -> list[psutil.Process]:
    return [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres" and str(data_dir) in " ".join(p.info["cmdline"] or [])
    ]


def test_two_processes_starting_at_once_share_one_server_and_the_last_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    processes = [start(data_dir) for _ in range(2)]
    outputs = [p.communicate(timeout=90) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sorted(int(out.strip()) for out, _ in outputs)[-1] == 2  # both wrote to one database
    assert servers_on(data_dir) == []  # the last process out stopped the server

    # The data survived intact: a later process starts the server again and finds both rows.
    again = start(data_dir)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert out.strip() == "3"
