"""Servers started on this machine by benchmarks and tests: a free port, a database URL for a child
process, and waiting until a server answers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(db: dict[str, Any], name: str | None = None) -> str:
    """A DATABASE_URL for Django database settings `db` (on database `name`, else its own)."""
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{name or db['NAME']}"


def libpq_conninfo(db: dict[str, Any], name: str | None = None) -> str:
    """A psycopg connection string for Django database settings `db` (on database `name`, else its own)."""
    import psycopg

    return psycopg.conninfo.make_conninfo(
        dbname=name or db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )


@contextmanager
def scratch_database(db: dict[str, Any], name: str) -> Iterator[str]:
    """A new, empty database `name` on the server of `db` for the block (dropped before and after, even if
    left over from an interrupted run); yields its DATABASE_URL."""
    import psycopg

    admin = libpq_conninfo(db)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(db, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def answers(url: str, *, timeout: float = 5) -> bool:
    """Whether `url` answers 200 (asked as through a TLS proxy, in case BEHIND_TLS_PROXY is on)."""
    import httpx

    try:
        return httpx.get(url, headers={"X-Forwarded-Proto": "https"}, timeout=timeout).status_code == 200
    except httpx.TransportError:
        return False


def wait_until_answers(url: str, server: subprocess.Popen, *, timeout: float = 60) -> None:
    """Wait until the server process answers `url` with 200; RuntimeError if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited (code {server.returncode}) before it answered {url}")
        if answers(url, timeout=2):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout:.0f} s")
