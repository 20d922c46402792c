"""ASGI entry point (uvicorn serves this, so streaming responses work)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")

application = get_asgi_application()
