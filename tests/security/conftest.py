"""Hostile input against the real server: the API's uvicorn fixtures and the S3-compatible server, reused."""

from __future__ import annotations

from tests.api.conftest import api, api_server, owner, owner_token, staff_api, staff_token  # noqa: F401
from tests.artifacts.conftest import s3_endpoint  # noqa: F401
