"""URL converters: ids in dashboard paths are any text PostgreSQL can hold, slashes included."""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import PathConverter

from artifacts.store.artifact import MAX_ID_LENGTH


class StoredIdConverter(PathConverter):
    """Like <path:>, but without NUL (PostgreSQL text cannot hold it) and at most MAX_ID_LENGTH characters,
    so a path no stored id could match is a 404 before any query runs."""

    regex = f"[^\\x00]{{1,{MAX_ID_LENGTH}}}"


register_converter(StoredIdConverter, "id")
