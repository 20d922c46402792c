"""The production web server: uvicorn with several worker processes, static files from whitenoise.

    DEBUG=0 SECRET_KEY=… ALLOWED_HOSTS=… python manage.py serve --host 0.0.0.0 --port 8000

Deployment steps stay separate (see docs/deployment.md): `migrate` once per release, `collectstatic`
once per build (or `serve --collectstatic`), `db_worker` for background tasks. uvicorn stops gracefully
on SIGTERM or SIGINT: it stops accepting, lets requests in flight finish (up to
`--graceful-timeout` seconds), then exits.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conductor_site.settings import envint


class Command(BaseCommand):
    help = "Serve Conductor with uvicorn worker processes (WEB_CONCURRENCY), for production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to bind (HOST)")
        parser.add_argument("--port", type=int, default=envint("PORT", 8000), help="port to bind (PORT)")
        parser.add_argument(
            "--workers",
            type=int,
            default=envint("WEB_CONCURRENCY", os.cpu_count() or 2),
            help="worker processes (WEB_CONCURRENCY; default: one per CPU)",
        )
        parser.add_argument(
            "--graceful-timeout",
            type=int,
            default=envint("GRACEFUL_TIMEOUT", 30),
            help="seconds in-flight requests get to finish on SIGTERM (GRACEFUL_TIMEOUT)",
        )
        parser.add_argument(
            "--collectstatic", action="store_true", help="run collectstatic first (else it must have been run)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers (WEB_CONCURRENCY) must be at least 1.")
        if options["collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        elif not settings.DEBUG and not staticfiles_storage.exists(getattr(staticfiles_storage, "manifest_name", "")):
            raise CommandError(
                f"No collected static files in {settings.STATIC_ROOT}: run `manage.py collectstatic --noinput` "
                "(a build step), or `manage.py serve --collectstatic`."
            )
        uvicorn.run(
            "conductor_site.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            lifespan="off",
            # Django's LOGGING (LOG_FORMAT, LOG_LEVEL) formats uvicorn's records too, access log included.
            log_config=None,
            timeout_graceful_shutdown=options["graceful_timeout"],
            # Client addresses from X-Forwarded-For only when the proxy is one of these (comma-separated IPs
            # or networks); the scheme comes from X-Forwarded-Proto through BEHIND_TLS_PROXY.
            proxy_headers=True,
            forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            server_header=False,
        )
