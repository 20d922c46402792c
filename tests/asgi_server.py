"""The project served by uvicorn (ASGI) in a thread of the test process, so streamed responses really stream.

pytest-django's `live_server` is a threaded WSGI server, which buffers async streaming responses; this
one runs the ASGI application against the same (test) database settings. Use it from tests marked
`django_db(transaction=True)`, so the server's connections see the test's rows.

    with AsgiServer() as server:
        httpx.get(f"{server.url}/health/")
"""

from __future__ import annotations

import threading
import time
from typing import Self

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

from conductor_site.local_servers import free_port


class AsgiServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            ASGIStaticFilesHandler(get_asgi_application()),
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="uvicorn-test-server", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


CSRF_TOKEN = "playgroundtestcsrftoken012345678"  # 32 letters and digits: a valid CSRF secret


def signed_in_cookies(user) -> dict[str, str]:
    """Cookies of a session signed in as `user`, with a CSRF cookie matching CSRF_TOKEN (send it as X-CSRFToken)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value, "csrftoken": CSRF_TOKEN}
