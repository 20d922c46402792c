"""WSGI entry point, for servers without ASGI (streaming pages need ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")

application = get_wsgi_application()
