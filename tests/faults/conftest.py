"""Fault tests: real processes (the production server, the task worker, PostgreSQL) stopped and killed.

`own_postgres` is an embedded PostgreSQL server of the test's own, in a temporary folder, that the test may
stop and start; `app_env` is the production environment pointing at it; `start_server` runs
`manage.py serve` in a subprocess and waits until it answers (tests/processes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.llm.vendor_servers import FakeAnthropicServer, FakeOpenAIServer
from tests.processes import OwnPostgres, ServerProcess, base_env, server_starter


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    server = OwnPostgres(tmp_path / "pg")
    yield server
    server.close()


@pytest.fixture
def app_env(own_postgres: OwnPostgres, tmp_path: Path) -> dict[str, str]:
    """The production environment (docs/deployment.md), on the test's own server."""
    return base_env(
        DATABASE_URL=own_postgres.url,
        DEBUG="0",
        SECRET_KEY="fault-test-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback; in production a TLS proxy sits in front
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_LEVEL="WARNING",
    )


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    with server_starter() as start:
        yield start


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server
