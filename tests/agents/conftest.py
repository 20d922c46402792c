from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def mock_config(request: pytest.FixtureRequest):
    """The `mock` provider config the data migration creates (transactional tests truncate it away)."""
    if not request.node.get_closest_marker("django_db"):
        return None
    from llm.models import ProviderConfig

    config, _ = ProviderConfig.objects.get_or_create(name="mock", defaults={"provider": "mock", "model": "mock-model"})
    return config
