"""How an artifact's content is offered as a download: always plain text, always an attachment, and a
file name that is one harmless segment whatever the id holds (`../`, `\\`, quotes, control or bidi characters)."""

from __future__ import annotations

import re

from django.utils.http import content_disposition_header

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DOTS = re.compile(r"\.{2,}")


def download_filename(artifact_id: str) -> str:
    """`<id>.txt`, with every character but ASCII letters, digits, '.', '_' and '-' replaced by '_'."""
    safe = _DOTS.sub(".", _UNSAFE.sub("_", artifact_id)).strip("._")
    return f"{safe[:150] or 'artifact'}.txt"


def attachment_disposition(artifact_id: str) -> str:
    """The Content-Disposition header for downloading this artifact's content."""
    return content_disposition_header(as_attachment=True, filename=download_filename(artifact_id))
