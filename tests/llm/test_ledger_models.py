from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from llm.models import ProviderConfig
from tests.factories import make_provider_config

pytestmark = pytest.mark.django_db


def test_migrate_makes_the_cache_table() -> None:
    assert "conductor_cache" in connection.introspection.table_names()


def test_a_config_has_one_key_source_at_most() -> None:
    config = make_provider_config(api_key_env="OPENAI_API_KEY")
    config.api_key_encrypted = "gAAAA-not-really"
    with pytest.raises(ValidationError, match="not both"):
        config.full_clean()
    with pytest.raises(IntegrityError):
        config.save()


def test_a_config_never_shows_its_key() -> None:
    config = ProviderConfig(name="prod", provider="openai", model="gpt-4o")
    config.set_api_key("sk-abcdefghijklmnopqrstuvwxyz123456")
    assert "abcdefghijklmnop" not in repr(config) + str(config) + config.key_source
    assert config.key_source == "stored (sk-…3456)"
    config.set_api_key(None)
    assert (config.api_key_encrypted, config.api_key_hint, config.key_source) == ("", "", "none")


def test_overriding_one_price_without_the_other_is_refused() -> None:
    config = ProviderConfig(name="half", provider="openai", model="gpt-4o", input_price_per_million=1)
    with pytest.raises(ValidationError, match="both"):
        config.full_clean()
