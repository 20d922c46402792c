"""Encryption at rest for API keys pasted into the admin.

Keys are Fernet tokens under the key(s) in CONDUCTOR_ENCRYPTION_KEY: a comma-separated list of
Fernet keys, the first encrypts and all decrypt, so a key can be rotated by putting the new one
first. With DEBUG on and no key set, a key derived from SECRET_KEY is used so a development checkout
works at once (settings.py derives it); production (DEBUG off) must set CONDUCTOR_ENCRYPTION_KEY
before storing a key.
Generate one with:
    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class KeyDecryptionError(Exception):
    """A stored key cannot be decrypted: CONDUCTOR_ENCRYPTION_KEY changed without keeping the old key."""


def _fernet() -> MultiFernet:
    configured = [k.strip() for k in (settings.CONDUCTOR_ENCRYPTION_KEY or "").split(",") if k.strip()]
    if not configured:
        raise ImproperlyConfigured(
            "CONDUCTOR_ENCRYPTION_KEY must be set to store API keys when DEBUG is off "
            "(or name an environment variable that holds the key instead)."
        )
    try:
        return MultiFernet([Fernet(k) for k in configured])
    except ValueError:
        raise ImproperlyConfigured(
            "CONDUCTOR_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated."
        ) from None


def encrypt_api_key(raw_key: str) -> str:
    return _fernet().encrypt(raw_key.encode()).decode()


def decrypt_api_key(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyDecryptionError(
            "The stored API key cannot be decrypted with CONDUCTOR_ENCRYPTION_KEY; "
            "add the previous key after the new one, or paste the API key again."
        ) from None


def mask_api_key(raw_key: str) -> str:
    """A hint that identifies a key without revealing it: `sk-…abcd`."""
    raw_key = raw_key.strip()
    if len(raw_key) < 12:
        return "…" + raw_key[-2:] if len(raw_key) >= 6 else "…"
    prefix = raw_key[:3] if raw_key[:3].isascii() else ""
    return f"{prefix}…{raw_key[-4:]}"
