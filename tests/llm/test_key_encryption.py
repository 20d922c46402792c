from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from llm.key_encryption import KeyDecryptionError, decrypt_api_key, encrypt_api_key, mask_api_key
from llm.models import ProviderConfig
from tests.factories import make_provider_config

RAW_KEY = "sk-proj-Zx9aQ2rT5uV8wY1bC4dE7fG0hJ3kL6mN"


def test_a_key_round_trips() -> None:
    token = encrypt_api_key(RAW_KEY)
    assert RAW_KEY not in token
    assert decrypt_api_key(token) == RAW_KEY


def test_it_uses_the_configured_key_and_rotates(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CONDUCTOR_ENCRYPTION_KEY = old
    token = encrypt_api_key(RAW_KEY)
    settings.CONDUCTOR_ENCRYPTION_KEY = f"{new},{old}"
    assert decrypt_api_key(token) == RAW_KEY
    settings.CONDUCTOR_ENCRYPTION_KEY = new
    with pytest.raises(KeyDecryptionError, match="add the previous key"):
        decrypt_api_key(token)


def test_without_a_key_it_refuses_to_store_one(settings) -> None:
    settings.CONDUCTOR_ENCRYPTION_KEY = None
    with pytest.raises(ImproperlyConfigured, match="CONDUCTOR_ENCRYPTION_KEY"):
        encrypt_api_key(RAW_KEY)


def test_a_malformed_key_is_a_configuration_error(settings) -> None:
    settings.CONDUCTOR_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        encrypt_api_key(RAW_KEY)


def test_the_hint_shows_only_the_ends() -> None:
    assert mask_api_key(RAW_KEY) == "sk-…L6mN"
    assert mask_api_key("short") == "…"
    assert mask_api_key("abcdefgh") == "…gh"


@pytest.mark.django_db
def test_a_stored_key_is_encrypted_at_rest() -> None:
    config = make_provider_config(provider="openai", model="gpt-4o")
    config.set_api_key(RAW_KEY)
    config.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM llm_providerconfig WHERE id = %s", [config.pk])
        row = cursor.fetchone()
    assert RAW_KEY not in repr(row)
    assert RAW_KEY[-20:] not in repr(row)
    stored = ProviderConfig.objects.get(pk=config.pk)
    assert stored.resolve_api_key() == RAW_KEY
    assert stored.api_key_hint == "sk-…L6mN"
    assert RAW_KEY not in repr(stored) and RAW_KEY not in str(stored) and RAW_KEY not in stored.key_source


@pytest.mark.django_db
def test_a_key_can_come_from_the_environment(monkeypatch) -> None:
    config = make_provider_config(provider="openai", model="gpt-4o", api_key_env="CONDUCTOR_TEST_OPENAI_KEY")
    assert config.resolve_api_key() is None
    assert config.key_source == "$CONDUCTOR_TEST_OPENAI_KEY (not set)"
    monkeypatch.setenv("CONDUCTOR_TEST_OPENAI_KEY", RAW_KEY)
    assert config.resolve_api_key() == RAW_KEY
    assert config.key_source == "$CONDUCTOR_TEST_OPENAI_KEY"
