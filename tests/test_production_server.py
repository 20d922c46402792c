"""`manage.py serve`, the production server: several uvicorn workers, hashed static files from whitenoise,
health checks, JSON logs, a clean exit on SIGTERM."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from django.db import connection

from conductor_site.local_servers import database_url
from tests.processes import ROOT, base_env, server_starter

pytestmark = pytest.mark.django_db(transaction=True)

HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front sends


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    return base_env(
        DATABASE_URL=database_url(connection.settings_dict),
        DEBUG="0",
        SECRET_KEY="production-test-" + "s" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        BEHIND_TLS_PROXY="1",
        WEB_CONCURRENCY="2",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        STATIC_ROOT=str(tmp_path / "static"),
    )


@pytest.fixture
def start_server() -> Iterator:
    with server_starter() as start:
        yield start


def test_it_serves_health_and_hashed_static_files_logs_json_and_stops_on_sigterm(
    production_env, start_server, tmp_path
) -> None:
    log = tmp_path / "server.log"
    server = start_server(production_env, "--collectstatic", log_path=log)

    with httpx.Client(base_url=server.url, headers=HTTPS, timeout=10) as client:
        for path in ("/health/", "/api/health"):
            response = client.get(path)
            assert response.status_code == 200
            assert response.json() == {"status": "ok", "database": "ok", "migrations": "applied"}
        login = client.get("/login/")
        assert login.status_code == 200
        stylesheet = next(part.split('"')[1] for part in login.text.split("href=")[1:] if ".css" in part)
        assert stylesheet.startswith("/static/css/conductor.") and stylesheet != "/static/css/conductor.css"
        css = client.get(stylesheet, headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200 and "immutable" in css.headers["cache-control"]
        assert css.headers.get("content-encoding") == "gzip"
    plain_http = httpx.get(f"{server.url}/health/", timeout=10)
    assert plain_http.status_code == 301 and plain_http.headers["location"].startswith("https://")

    assert server.stop() == 0

    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    started = {e["pid"] for e in entries if e["message"].startswith("Started server process")}
    assert len(started) == 2  # WEB_CONCURRENCY worker processes
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert {"method": "GET", "path": "/api/health", "status": 200} in [
        {k: e[k] for k in ("method", "path", "status")} for e in access
    ]
    assert any(e["message"].startswith("Finished server process") for e in entries)


def test_it_refuses_to_start_in_production_without_collected_static_files(production_env) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "serve", "--port", "0"],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "collectstatic" in result.stderr
